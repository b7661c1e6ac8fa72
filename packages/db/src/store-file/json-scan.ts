const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;

/**
 * Split a store file held as bytes into its top level (with `integrations` emptied) and the byte
 * ranges of the records, scanning once for strings and nesting ('"' and '\\' never occur inside a
 * multi-byte UTF-8 sequence, so bytes are enough). Returns null for anything irregular (not an
 * object, several `integrations` arrays, unbalanced, a stray comma, trailing bytes); the caller
 * then parses the whole text, which reports the problem the usual way.
 */
export function locateRecords(buf: Buffer): { header: unknown; ranges: number[] } | null {
  const start = buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf ? 3 : 0;
  let depth = 0;
  let inString = false;
  let escaped = false;
  let stringStart = -1;
  /** The last significant byte seen at depth 0 or 1 (a closed string counts as a quote). */
  let prev = -1;
  let key: string | null = null;
  let arrayOpen = -1;
  let arrayClose = -1;
  let elementStart = -1;
  let afterComma = false;
  const ranges: number[] = [];
  for (let i = start; i < buf.length; i++) {
    const c = buf[i]!;
    if (inString) {
      if (escaped) escaped = false;
      else if (c === BACKSLASH) escaped = true;
      else if (c === QUOTE) {
        inString = false;
        if (depth === 1 && (prev === OPEN_OBJECT || prev === COMMA)) {
          try {
            key = JSON.parse(buf.toString('utf8', stringStart, i + 1)) as string;
          } catch {
            return null;
          }
        }
        if (depth <= 1) prev = QUOTE;
      }
      continue;
    }
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) continue;
    if (depth === 0 && (prev !== -1 || c !== OPEN_OBJECT)) return null;
    const inRecords = depth === 2 && arrayOpen !== -1 && arrayClose === -1;
    if (inRecords) {
      if (c === COMMA) {
        if (elementStart === -1) return null;
        ranges.push(elementStart, i);
        elementStart = -1;
        afterComma = true;
        continue;
      }
      if (c === CLOSE_ARRAY) {
        if (elementStart !== -1) ranges.push(elementStart, i);
        else if (afterComma) return null;
        arrayClose = i;
        depth--;
        prev = c;
        continue;
      }
      if (elementStart === -1) elementStart = i;
    }
    if (c === QUOTE) {
      inString = true;
      stringStart = i;
      continue;
    }
    if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      if (depth === 1 && c === OPEN_ARRAY && prev === COLON && key === 'integrations') {
        if (arrayOpen !== -1) return null;
        arrayOpen = i;
      }
      depth++;
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      depth--;
      if (depth < 0) return null;
    }
    if (depth <= 1) prev = c;
  }
  if (depth !== 0 || inString || arrayClose === -1) return null;
  try {
    const header: unknown = JSON.parse(
      `${buf.toString('utf8', start, arrayOpen)}[]${buf.toString('utf8', arrayClose + 1)}`,
    );
    return { header, ranges };
  } catch {
    return null;
  }
}

/** JSON.parse errors, minus the excerpt V8 adds (it may be part of a secret), plus line:column. */
export function describeJsonError(error: Error, text: string): string {
  const message = error.message;
  const match = /at position (\d+)/.exec(message);
  const position = match ? Number(match[1]) : undefined;
  const end = text.trimEnd().length;
  if (/Unexpected end of JSON input|Unterminated string/.test(message) || (position !== undefined && position >= end)) {
    return `the file is truncated: its JSON ends at byte ${end} before the document is complete`;
  }
  const what = message.replace(/ in JSON at position \d+.*$/s, '').replace(/, (\.\.\.)?".*$/s, '');
  if (position === undefined) return `malformed JSON: ${what}`;
  const before = text.slice(0, position);
  const line = before.split('\n').length;
  const column = position - before.lastIndexOf('\n');
  return `malformed JSON at line ${line}, column ${column} (position ${position}): ${what}`;
}
