/** How a stack frame mapped through a source map is written, by the preload and the collector alike. */

import type { StackFrame } from './incoming';

/**
 * `frame` at its original position (`file`, 1-based `line`, the map's 0-based `column0`), the
 * generated position kept in `generated`; the map's `name` becomes the frame's function when it
 * has none.
 */
export function mappedFrame(
  frame: StackFrame,
  file: string,
  line: number,
  column0: number | null | undefined,
  name: string | null | undefined,
): StackFrame {
  const mapped: StackFrame = {
    ...frame,
    file,
    line,
    column: (column0 ?? 0) + 1,
    generated: { file: frame.file, line: frame.line, column: frame.column },
  };
  if (name && !frame.function) mapped.function = name;
  return mapped;
}
