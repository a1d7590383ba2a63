import { FieldCipher, keyVersionOf } from '../../platform/crypto/field-cipher.js';
import type { KeyRing } from '../../platform/crypto/key-ring.js';
import type { Address, Phone } from './registry.tables.js';

// How the registry's restricted fields (registry.classification.ts) are stored: encrypted with
// AES-256-GCM, bound to their table, column and record, and matched through blind indexes.
// Only the repository layer (registry.repository.ts, bulk/bulk.repository.ts,
// reencryption.repository.ts) and the audit snapshots use this: services deal in plaintext.

/** Blind-index purposes: one derived key each. */
const IDENTIFIER_INDEX = 'identifiers.value';
const PHONE_INDEX = 'registrants.phones';
const ADDRESS_DIGEST = 'audit:registrants.addresses';

/** How many characters of a keyed digest the audit log keeps (96 bits). */
const AUDIT_DIGEST_LENGTH = 16;

/** The contact columns of a registrant as stored: legacy plaintext (pre-encryption rows) or ciphertext. */
export interface StoredContacts {
  uuid: string;
  phones: Phone[] | null;
  addresses: Address[] | null;
  phonesEncrypted: string | null;
  addressesEncrypted: string | null;
}

export interface Contacts {
  phones: Phone[];
  addresses: Address[];
}

/** What the audit log keeps instead of restricted values (see registry.views.ts, auditSnapshot). */
export interface AuditDigests {
  identifier(idType: string, value: string): string;
  phone(value: string): string;
  address(address: Address): string;
}

export class RegistryEncryption implements AuditDigests {
  private readonly cipher: FieldCipher;

  constructor(private readonly keys: KeyRing) {
    this.cipher = new FieldCipher(keys);
  }

  private get index() {
    return this.keys.blindIndex();
  }

  /** The data-key version new ciphertexts are written with. */
  currentKeyVersion(): number {
    return this.keys.current().version;
  }

  /** Before writing: picks up a data key rotated by another process (at most every 30 s a query). */
  prepareToWrite(): Promise<void> {
    return this.keys.refreshIfStale();
  }

  /** Before decrypting: loads any key version these ciphertexts name that this process has not seen. */
  async prepareToRead(ciphertexts: Iterable<string | null | undefined>): Promise<void> {
    const versions = new Set<number>();
    for (const ciphertext of ciphertexts) {
      const version = ciphertext ? keyVersionOf(ciphertext) : undefined;
      if (version !== undefined) versions.add(version);
    }
    if (versions.size > 0) await this.keys.ensureVersions(versions);
  }

  // ---- identifiers -------------------------------------------------------------------------

  /** The blind index of an identifier: its type and value (Unicode NFC), so equal pairs match. */
  identifierIndex(idType: string, value: string): string {
    return this.index.compute(IDENTIFIER_INDEX, `${idType}\u0000${value.normalize('NFC')}`);
  }

  /** Every index an identifier may be stored under: more than one while the index key is rotated. */
  identifierIndexes(idType: string, value: string): string[] {
    return this.index.computeAll(IDENTIFIER_INDEX, `${idType}\u0000${value.normalize('NFC')}`);
  }

  /** The stored columns of an identifier value: ciphertext bound to its registrant and type, and its index. */
  encryptIdentifier(registrantId: number, idType: string, value: string): { value: null; valueEncrypted: string; valueIndex: string } {
    return {
      value: null,
      valueEncrypted: this.cipher.encrypt(value, { table: 'identifiers', column: 'value', record: `${registrantId}:${idType}` }),
      valueIndex: this.identifierIndex(idType, value),
    };
  }

  /** The value of a stored identifier (a pre-encryption row holds it in clear until converted). */
  decryptIdentifier(row: { registrantId: number; idType: string; value: string | null; valueEncrypted: string | null }): string {
    if (row.valueEncrypted !== null) return this.cipher.decrypt(row.valueEncrypted, { table: 'identifiers', column: 'value', record: `${row.registrantId}:${row.idType}` });
    if (row.value !== null) return row.value;
    throw new Error(`Identifier of registrant ${row.registrantId} has no value`);
  }

  // ---- phones and addresses ----------------------------------------------------------------

  /** The blind index of a phone number in E.164 (as phones are stored). */
  phoneIndex(e164: string): string {
    return this.index.compute(PHONE_INDEX, e164);
  }

  /** Every index a phone number may be stored under: more than one while the index key is rotated. */
  phoneIndexes(e164: string): string[] {
    return this.index.computeAll(PHONE_INDEX, e164);
  }

  /**
   * The stored columns for the contact fields given (an absent field is left as it is). An empty
   * list is stored as null; the plaintext columns are cleared, so an old row is converted on write.
   */
  encryptContacts(uuid: string, contacts: { phones?: Phone[] | undefined; addresses?: Address[] | undefined }) {
    const columns: { phones?: null; phonesEncrypted?: string | null; phoneIndexes?: string[]; addresses?: null; addressesEncrypted?: string | null } = {};
    if (contacts.phones !== undefined) {
      columns.phones = null;
      columns.phonesEncrypted = contacts.phones.length > 0 ? this.cipher.encryptJson(contacts.phones, { table: 'registrants', column: 'phones', record: uuid }) : null;
      columns.phoneIndexes = [...new Set(contacts.phones.map((phone) => this.phoneIndex(phone.value)))];
    }
    if (contacts.addresses !== undefined) {
      columns.addresses = null;
      columns.addressesEncrypted = contacts.addresses.length > 0 ? this.cipher.encryptJson(contacts.addresses, { table: 'registrants', column: 'addresses', record: uuid }) : null;
    }
    return columns;
  }

  /** Phones and addresses in clear (call prepareToRead for the rows first). */
  decryptContacts(row: StoredContacts): Contacts {
    return {
      phones: row.phonesEncrypted !== null
        ? this.cipher.decryptJson<Phone[]>(row.phonesEncrypted, { table: 'registrants', column: 'phones', record: row.uuid })
        : row.phones ?? [],
      addresses: row.addressesEncrypted !== null
        ? this.cipher.decryptJson<Address[]>(row.addressesEncrypted, { table: 'registrants', column: 'addresses', record: row.uuid })
        : row.addresses ?? [],
    };
  }

  // ---- audit -------------------------------------------------------------------------------

  /**
   * The audit log's stand-in for an identifier value: the start of its blind index (as in
   * identifiers.value_index), so an entry can be tied to the identifier it names, and a value
   * confirmed, only by someone holding the key.
   */
  identifier(idType: string, value: string): string {
    return `hmac:${this.identifierIndex(idType, value).slice(0, AUDIT_DIGEST_LENGTH)}`;
  }

  phone(value: string): string {
    return `hmac:${this.phoneIndex(value).slice(0, AUDIT_DIGEST_LENGTH)}`;
  }

  /** A keyed digest of the whole address, so a change of a masked line still shows as a change. */
  address(address: Address): string {
    return `hmac:${this.index.compute(ADDRESS_DIGEST, JSON.stringify(address)).slice(0, AUDIT_DIGEST_LENGTH)}`;
  }
}
