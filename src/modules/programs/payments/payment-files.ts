import { stringify } from 'csv-stringify/sync';

// The file provider's formats: a CSV and an ISO 20022 pain.001.001.09 credit transfer initiation,
// one of each per sending of a batch. Beneficiaries are identified by their registry UUID (the
// registry keeps no payment accounts yet) and named by their display name.

export interface PaymentLine {
  endToEndId: string;
  paymentId: string;
  registrantId: string;
  name: string;
  amount: string;
  currency: string;
  attempt: number;
}

export const CSV_HEADER = ['end_to_end_id', 'payment_id', 'registrant_id', 'name', 'amount', 'currency', 'attempt'];

export function csvHeader(): string {
  return stringify([CSV_HEADER]);
}

export function csvLines(lines: PaymentLine[]): string {
  return stringify(lines.map((line) => [line.endToEndId, line.paymentId, line.registrantId, line.name, line.amount, line.currency, line.attempt]));
}

const escapeXml = (text: string) => text.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!);
/** ISO 20022 Max35Text / Max140Text. */
const max = (text: string, length: number) => escapeXml(text.slice(0, length));

export interface Pain001Header {
  messageId: string;
  createdAt: Date;
  count: number;
  controlSum: string;
  initiator: string;
  debtorName: string;
  debtorAccount: string;
  executionDate: string;
  paymentInfoId: string;
}

export function pain001Start(header: Pain001Header): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.09">
<CstmrCdtTrfInitn>
<GrpHdr><MsgId>${max(header.messageId, 35)}</MsgId><CreDtTm>${header.createdAt.toISOString().slice(0, 19)}</CreDtTm><NbOfTxs>${header.count}</NbOfTxs><CtrlSum>${header.controlSum}</CtrlSum><InitgPty><Nm>${max(header.initiator, 140)}</Nm></InitgPty></GrpHdr>
<PmtInf><PmtInfId>${max(header.paymentInfoId, 35)}</PmtInfId><PmtMtd>TRF</PmtMtd><NbOfTxs>${header.count}</NbOfTxs><CtrlSum>${header.controlSum}</CtrlSum><ReqdExctnDt><Dt>${header.executionDate}</Dt></ReqdExctnDt><Dbtr><Nm>${max(header.debtorName, 140)}</Nm></Dbtr><DbtrAcct><Id><Othr><Id>${max(header.debtorAccount, 34)}</Id></Othr></Id></DbtrAcct><DbtrAgt><FinInstnId><Othr><Id>NOTPROVIDED</Id></Othr></FinInstnId></DbtrAgt>
`;
}

export function pain001Transactions(lines: PaymentLine[]): string {
  return lines.map((line) => `<CdtTrfTxInf><PmtId><InstrId>${max(line.endToEndId, 35)}</InstrId><EndToEndId>${max(line.endToEndId, 35)}</EndToEndId></PmtId>`
    + `<Amt><InstdAmt Ccy="${line.currency}">${line.amount}</InstdAmt></Amt><Cdtr><Nm>${max(line.name, 140)}</Nm><Id><PrvtId><Othr><Id>${line.registrantId}</Id><SchmeNm><Prtry>COMMONWEAL</Prtry></SchmeNm></Othr></PrvtId></Id></Cdtr>`
    + `<RmtInf><Ustrd>${max(`payment ${line.paymentId}`, 140)}</Ustrd></RmtInf></CdtTrfTxInf>\n`).join('');
}

export function pain001End(): string {
  return '</PmtInf>\n</CstmrCdtTrfInitn>\n</Document>\n';
}
