// The DCI protocol, shared by our registry server and our DCI clients: schemas, envelope types,
// signatures, keys and encryption. No database, no HTTP.
export * from './envelope.js';
export { DciSchemas, loadDciSchemas, SCHEMA, SCHEMA_BASE, DEFAULT_SPEC_DIR, type SchemaName, type SchemaCheck, type SchemaProblem } from './spec-schemas.js';
export { signedContentOf, canonicalJson } from './canonical.js';
export {
  checkSignature, signatureStrategy, SIGNATURE_STRATEGIES,
  type SignatureCheck, type SignaturePolicy, type SignatureStrategy, type SignatureStrategyName, type SignedContent, type SigningKey, type VerifyOptions, type VerifyOutcome,
} from './signatures.js';
export { SIGNATURE_STRING, SignatureStringStrategy, parseSignatureString, type ParsedSignatureString } from './signature-string.js';
export { JWS, JwsStrategy } from './jws-signature.js';
export { PartnerKeys, staticKeys, type KeyResolver, type SenderKeySource, type RemoteKeyOptions } from './keys.js';
export { encryptMessage, decryptMessage, EncryptionError, DEFAULT_KEY_MANAGEMENT, DEFAULT_CONTENT_ENCRYPTION } from './encryption.js';
