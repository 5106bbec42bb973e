/**
 * Which request updates of the preload's event frames the builder applies from their fields by
 * code (TraceBuilder.applyEvent), and how it reads each field. A field here is converted as
 * convertField converts it (a reference as mapRef maps it), so a record reads the same whichever
 * way its update came; an update with any other field, or a value of another type, goes as the
 * `record` message it stands for (issue 65: no `fields` object, no walk of its keys, per update).
 */

import { isTime } from '../formats/normalize';
import { REF_FIELDS } from '../contract/wire';
import type { DecodedEvent } from '../../protocol/events';
import { KIND_INDEX, setField, type AnyRecord, type ConnectionState, type UpsertDecoder } from './upsert';

/** A request field applyEvent reads: its name, the wire type its value must have, and for a reference the index of the kind it names. */
export interface RequestEventField {
  readonly name: string;
  readonly type: number;
  readonly ref?: number;
}

/** Wire types: a number isTime takes, any number, a string, a boolean, a header block or list, a local id (string or number). */
const TIME = 1;
const NUMBER = 2;
const TEXT = 3;
const FLAG = 4;
const HEADERS = 5;
const REF = 6;

/** The request fields applyEvent takes, by name. */
const TYPES: Readonly<Record<string, number>> = {
  client: TEXT,
  reqMethod: TEXT,
  reqURL: TEXT,
  protoMajor: NUMBER,
  protoMinor: NUMBER,
  reqStartAt: TIME,
  reusedConn: FLAG,
  reqHeaders: HEADERS,
  reqContentLen: NUMBER,
  tcpConn: REF,
  tlsTunnel: REF,
  dial: REF,
  initiator: TEXT,
  reqSentAt: TIME,
  respRecvAt: TIME,
  respStatusCode: NUMBER,
  respStatusText: TEXT,
  respHeaders: HEADERS,
  respContentLen: NUMBER,
  respDoneAt: TIME,
  respClosedEarly: FLAG,
  reqEndAt: TIME,
};

/**
 * The fields applyEvent takes, by field code, from the codes' names (the protocol's FIELD_NAMES,
 * handed over by the collector: TraceBuilderOptions.eventFieldNames); undefined for the others.
 * Codes below 32 only: requestEventFits keeps the codes it saw in a 32-bit mask.
 */
export function requestEventFields(fieldNames: readonly string[]): ReadonlyArray<RequestEventField | undefined> {
  const refs = new Map(REF_FIELDS.httpRequests.map(([path, target]) => [path, KIND_INDEX.get(target)!]));
  return fieldNames.map((name, code) => {
    const type = Object.hasOwn(TYPES, name) ? TYPES[name] : undefined;
    if (type === undefined || code >= 32) return undefined;
    return type === REF ? { name, type, ref: refs.get(name)! } : { name, type };
  });
}

/**
 * Whether applyEvent takes a decoded request update: every field one of `fields`, with a value of
 * its type, none twice (a message keeps a field's last value only; converted twice, a first
 * reference would still have taken a traceID).
 */
export function requestEventFits(ev: DecodedEvent, fields: ReadonlyArray<RequestEventField | undefined>): boolean {
  const { codes, values } = ev;
  let seen = 0;
  for (let i = 0; i < ev.count; i++) {
    const code = codes[i];
    const field = code >= 0 ? fields[code] : undefined;
    if (field === undefined) return false;
    const bit = 1 << code;
    if ((seen & bit) !== 0) return false;
    seen |= bit;
    const v = values[i];
    switch (field.type) {
      case TIME:
        if (!isTime(v)) return false;
        break;
      case NUMBER:
        if (typeof v !== 'number') return false;
        break;
      case TEXT:
        if (typeof v !== 'string') return false;
        break;
      case FLAG:
        if (typeof v !== 'boolean') return false;
        break;
      case HEADERS:
        if (typeof v !== 'string' && !Array.isArray(v)) return false;
        break;
      default:
        if (typeof v !== 'string' && typeof v !== 'number') return false;
    }
  }
  return true;
}

/**
 * Sets a request update's fields (one requestEventFits took) on `record`, converted as convertField
 * converts them, references as mapRef maps them; in the frame's order, as the message's keys are (a
 * new record gets its traceID and the rest after them: TraceBuilder.addRecord).
 */
export function applyRequestFields(
  convert: UpsertDecoder,
  state: ConnectionState,
  record: AnyRecord,
  ev: DecodedEvent,
  fields: ReadonlyArray<RequestEventField | undefined>,
): void {
  for (let i = 0; i < ev.count; i++) {
    const field = fields[ev.codes[i]]!;
    const value = ev.values[i];
    if (field.ref === undefined) convert.convertField(state, record, field.name, value);
    else setField(record, field.name, convert.globalId(state, field.ref, String(value)));
  }
}
