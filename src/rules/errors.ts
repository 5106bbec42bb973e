/**
 * Errors of the rule layer. A condition that does not parse or type-check throws
 * RuleSyntaxError, which points at the offending position with a caret excerpt; a rule object
 * that is not valid (missing id, unknown action, bad limit) throws RuleValidationError.
 */

/** A bad condition: `offset` is 0-based into the condition text, `column` 1-based. */
export class RuleSyntaxError extends Error {
  /** The condition's text as given. */
  readonly source: string;
  /** 0-based offset of the offending character (source.length at end of input). */
  readonly offset: number;
  /** 1-based column of the offending character (conditions are one line; newlines count as columns). */
  readonly column: number;
  /** The problem alone, without position or excerpt. */
  readonly reason: string;
  /** Two lines: the condition (shortened around the position when long) and a caret under it. */
  readonly excerpt: string;
  /** The id of the rule whose condition this is, when validateRule raised it. */
  ruleId?: string;

  constructor(reason: string, source: string, offset: number) {
    const at = Math.max(0, Math.min(offset, source.length));
    const excerpt = caretExcerpt(source, at);
    super(`${reason} at column ${at + 1}\n${excerpt}`);
    this.name = 'RuleSyntaxError';
    this.source = source;
    this.offset = at;
    this.column = at + 1;
    this.reason = reason;
    this.excerpt = excerpt;
  }
}

/** A rule object that is not valid; `field` names the property at fault. */
export class RuleValidationError extends Error {
  readonly field: string;
  /** The rule's id when it had a usable one. */
  readonly ruleId: string | undefined;
  constructor(message: string, field: string, ruleId?: string) {
    super(ruleId === undefined ? message : `rule ${JSON.stringify(ruleId)}: ${message}`);
    this.name = 'RuleValidationError';
    this.field = field;
    this.ruleId = ruleId;
  }
}

const EXCERPT_WIDTH = 60;

/** The source (a window of it when long, control characters shown as spaces) and a caret line. */
function caretExcerpt(source: string, at: number): string {
  let start = 0;
  let end = source.length;
  if (source.length > EXCERPT_WIDTH) {
    start = Math.max(0, at - EXCERPT_WIDTH / 2);
    end = Math.min(source.length, start + EXCERPT_WIDTH);
    start = Math.max(0, end - EXCERPT_WIDTH);
  }
  const head = start > 0 ? '…' : '';
  const tail = end < source.length ? '…' : '';
  const text = source.slice(start, end).replace(/[\u0000-\u001f\u007f]/g, ' ');
  return `  ${head}${text}${tail}\n  ${' '.repeat(head.length + at - start)}^`;
}
