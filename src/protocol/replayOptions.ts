/**
 * The options of a replay (docs/replay.md): which recording answers the program's requests, what
 * becomes of a request it has no answer for, when answers arrive, and what the matcher leaves out.
 * Part of the one option table (optionTable.ts). A replay changes what the program receives: these
 * are launch-configuration attributes and `nettrace run` flags, never `nettrace.*` settings (a
 * cloned workspace's settings cannot turn one on), and an untrusted workspace's launch
 * configuration never starts one (src/extension/settingsGuard.ts replayIfTrusted).
 */

import type { OptionDef } from './optionBase';

/** What becomes of a request the recording has no answer for, default first. */
export const REPLAY_UNMATCHED = ['fail', 'pass'] as const;
/** When answers arrive, default first. */
export const REPLAY_TIMINGS = ['now', 'recorded'] as const;
/** What happens to the dates in answers, default first. */
export const REPLAY_DATES = ['shift', 'keep'] as const;

/** The replay's options, in the order of `--help` and the README tables. */
export function replayOptions(): OptionDef[] {
  return [
    {
      name: 'replay',
      kind: 'path',
      default: '',
      description:
        "Replay a recording: a trace recorded with `--record`, or a HAR 1.2 with content (a browser's \"Save all as HAR with content\", Playwright's, Polly.js's). Every request the program makes is answered from it, its failures included, in the order recorded, **without touching the network**; each is marked in the trace (see `docs/replay.md`). **Changes what the program receives.**",
      launch: true,
      cli: {
        flag: 'replay',
        value: 'required',
        arg: 'FILE',
        help: 'answer every request from a recording (a trace recorded with --record, or a HAR with content) instead of the network, failures included, in the order recorded; each replayed request is marked (docs/replay.md)',
      },
    },
    {
      name: 'replayUnmatched',
      kind: 'enum',
      values: REPLAY_UNMATCHED,
      valueDescriptions: ['Fail it as a refused connection (the network is off during a replay)', 'Send it to the network'],
      default: REPLAY_UNMATCHED[0],
      description:
        'A request the recording has no answer for: `fail` makes it fail as a refused connection (the network is off during a replay), `pass` sends it to the network. Either way the trace names the nearest recorded request and what differed.',
      launch: true,
      cli: {
        flag: 'replay-unmatched',
        value: 'required',
        arg: 'MODE',
        help: 'fail | pass: a request the recording has no answer for fails as a refused connection (default) or goes to the network; the trace says what differed from the nearest recorded one',
      },
    },
    {
      name: 'replayTiming',
      kind: 'enum',
      values: REPLAY_TIMINGS,
      valueDescriptions: ['Answer at once', 'Answer with the recorded delays: the first byte and each part of the body when they arrived'],
      default: REPLAY_TIMINGS[0],
      description:
        'When replayed answers arrive: `now` at once; `recorded` with the recorded delays (the first byte after the recorded wait, each part of the body when it arrived), so concurrent answers arrive in the recorded order.',
      launch: true,
      cli: {
        flag: 'replay-timing',
        value: 'required',
        arg: 'WHEN',
        help: 'now | recorded: answers at once (default) or with the recorded delays of the first byte and each part of the body, so a race replays as it happened',
      },
    },
    {
      name: 'replayDates',
      kind: 'enum',
      values: REPLAY_DATES,
      valueDescriptions: ['Move the dates in answers by the time since the recording', 'Leave the dates as recorded'],
      default: REPLAY_DATES[0],
      description:
        'The dates in replayed answers (`Date`, `Expires`, `Last-Modified`, a `Retry-After` date, cookie expiries): `shift` moves them by the time since the recording, `keep` leaves them as recorded.',
      launch: true,
      cli: {
        flag: 'replay-dates',
        value: 'required',
        arg: 'MODE',
        help: 'shift | keep: move the dates in answers by the time since the recording (default) or leave them',
      },
    },
    {
      name: 'replayIgnoreQuery',
      kind: 'list',
      default: [],
      description: 'Query parameters left out when a request is matched to the recording (a timestamp, a cache buster, a nonce).',
      launch: true,
      cli: {
        flag: 'replay-ignore-query',
        value: 'required',
        arg: 'NAME',
        repeat: true,
        help: 'leave the query parameter NAME out when matching requests to the recording; repeat for more',
      },
    },
    {
      name: 'replayIgnoreField',
      kind: 'list',
      default: [],
      description:
        "Body fields left out when a request is matched to the recording: a JSON path from the body's root (`requestId`, `meta.sentAt`, `items[*].nonce`), or a form field or multipart part by its name.",
      launch: true,
      cli: {
        flag: 'replay-ignore-field',
        value: 'required',
        arg: 'PATH',
        repeat: true,
        help: 'leave a body field out when matching: a JSON path (meta.sentAt, items[*].nonce) or a form field name; repeat for more',
      },
    },
    {
      name: 'replayMatchHeader',
      kind: 'list',
      default: [],
      description: 'Request headers compared too when a request is matched to the recording (none are by default).',
      launch: true,
      cli: {
        flag: 'replay-match-header',
        value: 'required',
        arg: 'NAME',
        repeat: true,
        help: 'compare the request header NAME too when matching (none are by default); repeat for more',
      },
    },
    {
      name: 'replayIgnoreHost',
      kind: 'boolean',
      default: false,
      description:
        'Match requests to the recording on any host and port (a service that listens on another port now); the scheme still counts.',
      launch: true,
      cli: {
        flag: 'replay-ignore-host',
        value: 'none',
        help: 'match requests to the recording on any host and port (the scheme still counts)',
      },
    },
  ];
}
