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

/**
 * A request field applyEvent reads: its name, the wire type its value must have, how it is stored
 * (`store`, as convertField stores that name with a value of that type), and for a reference the
 * index of the kind it names.
 */
export interface RequestEventField {
  readonly name: string;
  readonly type: number;
  readonly store: number;
  readonly ref?: number;
}

/** Wire types: a number isTime takes, any number, a string, a boolean, a header block or list, a local id (string or number). */
const TIME = 1;
const NUMBER = 2;
const TEXT = 3;
const FLAG = 4;
const HEADERS = 5;
const REF = 6;

/**
 * How applyRequestFields stores a field: the branch convertField takes for its name and type,
 * chosen once per field code instead of by comparing the name for every field of every update.
 */
const STORE_URL = 1;
const STORE_HEADERS = 2;
const STORE_TIME = 3;
const STORE_PLAIN = 4;
const STORE_INITIATOR = 5;
const STORE_TEXT = 6;
const STORE_REF = 7;

/** convertField's branch for a field of TYPES (its name, its wire type). */
function storeOf(name: string, type: number): number {
  if (type === REF) return STORE_REF;
  if (name === 'reqURL') return STORE_URL;
  if (name === 'initiator') return STORE_INITIATOR;
  if (type === HEADERS) return STORE_HEADERS;
  if (type === TIME) return STORE_TIME;
  if (type === TEXT) return STORE_TEXT;
  return STORE_PLAIN;
}

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
    const store = storeOf(name, type);
    return type === REF ? { name, type, store, ref: refs.get(name)! } : { name, type, store };
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
    // requestEventFits checked each value's type against the field's.
    switch (field.store) {
      case STORE_URL:
        convert.setUrl(record, value as string);
        break;
      case STORE_HEADERS:
        convert.setHeaders(record, field.name, value);
        break;
      case STORE_TIME:
        convert.setTime(record, field.name, value);
        break;
      case STORE_INITIATOR:
        convert.setInitiator(state, record, value as string);
        break;
      case STORE_TEXT:
        convert.setText(record, field.name, value as string);
        break;
      case STORE_REF:
        setField(record, field.name, convert.globalId(state, field.ref!, String(value)));
        break;
      default:
        setField(record, field.name, value);
    }
  }
}
