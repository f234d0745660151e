/**
 * Reference Paths (`$.a.b`, `$['a b'][0]`, `$$.Execution.Id`): the single-node JSONPath subset
 * that `TimeoutSecondsPath`, `HeartbeatSecondsPath`, `SecondsPath` and `TimestampPath` may use.
 * The interpreter evaluates these itself on the wall clock; we evaluate them to run on the
 * virtual one.
 */
export type PathResult = { found: true; value: unknown } | { found: false };

type Segment = string | number;

export function readReferencePath(path: string, input: unknown, context: unknown): PathResult {
  const fromContext = path.startsWith('$$');
  const segments = parseSegments(path.slice(fromContext ? 2 : 1), path);
  let current: unknown = fromContext ? context : input;
  for (const segment of segments) {
    if (typeof segment === 'number') {
      if (!Array.isArray(current) || segment >= current.length) return { found: false };
      current = current[segment];
    } else {
      if (current === null || typeof current !== 'object' || Array.isArray(current)) {
        return { found: false };
      }
      if (!Object.hasOwn(current, segment)) return { found: false };
      current = (current as Record<string, unknown>)[segment];
    }
  }
  return { found: true, value: current };
}

export class PathSyntaxError extends Error {
  override readonly name = 'PathSyntaxError';
}

function parseSegments(rest: string, whole: string): Segment[] {
  if (!whole.startsWith('$')) throw new PathSyntaxError(`'${whole}' is not a reference path`);
  const segments: Segment[] = [];
  let i = 0;
  while (i < rest.length) {
    const char = rest[i];
    if (char === '.') {
      const match = /^[^.[\]]+/.exec(rest.slice(i + 1));
      if (!match) throw new PathSyntaxError(`'${whole}' is not a reference path`);
      segments.push(match[0]);
      i += 1 + match[0].length;
    } else if (char === '[') {
      const close = rest.indexOf(']', i);
      if (close < 0) throw new PathSyntaxError(`'${whole}' is not a reference path`);
      const inner = rest.slice(i + 1, close).trim();
      const quoted = /^(['"])(.*)\1$/.exec(inner);
      if (quoted) segments.push(quoted[2] ?? '');
      else if (/^\d+$/.test(inner)) segments.push(Number(inner));
      else throw new PathSyntaxError(`'${whole}' is not a reference path`);
      i = close + 1;
    } else {
      throw new PathSyntaxError(`'${whole}' is not a reference path`);
    }
  }
  return segments;
}
