import { describe, expect, it } from 'vitest';
import { describeJsonError, locateRecords } from './json-scan';

/** What the scanner found, as values: the header, and each record's bytes parsed on their own. */
function scan(text: string) {
  const buf = Buffer.from(text);
  const found = locateRecords(buf);
  if (!found) return null;
  const records: unknown[] = [];
  for (let i = 0; i < found.ranges.length; i += 2) {
    records.push(JSON.parse(buf.toString('utf8', found.ranges[i], found.ranges[i + 1])));
  }
  return { header: found.header, records };
}

const TRICKY = [
  { credential_key: 'a', namespace: 'quote " bracket ] brace } comma , colon : ünïcödé ✓ 𝄞' },
  { credential_key: 'b', namespace: 'ends in a backslash \\', metadata: { nested: [[1, [2]], { '[': '{' }], e: [] } },
  { credential_key: 'c', note: '\\"', list: [{}, [], '', 0, -1.5e-7, true, false, null] },
  'a record that is a string, with a comma, and a ] bracket',
  42,
  [],
];

describe('locateRecords: the byte range of each record, in one pass', () => {
  // An empty key first: the first string the scan meets ends at once.
  const doc = {
    '': '',
    format: 'alphaswarm.integrations',
    version: 1,
    integrations: TRICKY,
    after: { x: [1, { y: '}' }] },
  };
  const layouts: [string, string][] = [
    ['compact', JSON.stringify(doc)],
    ['indented', JSON.stringify(doc, null, 2)],
    ['tabs and CRLF', JSON.stringify(doc, null, '\t').replace(/\n/g, '\r\n')],
    ['a byte-order mark first', `\ufeff${JSON.stringify(doc)}`],
    [
      'space everywhere JSON allows it',
      ` \n{ "" : "" , "format" : "alphaswarm.integrations" , "version" : 1 , "integrations" : [ ${TRICKY.map((r) => JSON.stringify(r)).join(' ,\n ')} ] , "after" : { "x" : [ 1 , { "y" : "}" } ] } }\n `,
    ],
  ];

  it.each(layouts)('%s: every record as written, the rest of the file as the header with no records', (_, text) => {
    expect(scan(text)).toEqual({ header: { ...doc, integrations: [] }, records: TRICKY });
  });

  it('an empty list is no record, however it is spaced', () => {
    for (const list of ['[]', '[ ]', '[\n\t\r ]']) {
      expect(scan(`{"integrations":${list},"v":1}`)).toEqual({ header: { integrations: [], v: 1 }, records: [] });
    }
  });

  it('only the top level’s `integrations` key names the records', () => {
    const text = JSON.stringify({
      meta: { integrations: [1, 2] },
      label: 'integrations',
      integrations: [{ integrations: ['not', 'these'] }, 'integrations'],
      tail: [['integrations', []]],
    });
    expect(scan(text)).toEqual({
      header: { meta: { integrations: [1, 2] }, label: 'integrations', integrations: [], tail: [['integrations', []]] },
      records: [{ integrations: ['not', 'these'] }, 'integrations'],
    });
    // A key spelled with an escape is still that key.
    expect(scan('{"integr\\u0061tions":[{"a":1}]}')).toEqual({ header: { integrations: [] }, records: [{ a: 1 }] });
  });

  it('leaves what is inside a record to that record’s own parse: a bad string there is still located', () => {
    const buf = Buffer.from('{"integrations":[{"a":"\\x"},["\\q",{"\\z":1}]],"v":1}');
    const found = locateRecords(buf);
    expect(found?.header).toEqual({ integrations: [], v: 1 });
    const bytes = [];
    for (let i = 0; i < (found?.ranges.length ?? 0); i += 2)
      bytes.push(buf.toString('utf8', found?.ranges[i], found?.ranges[i + 1]));
    expect(bytes).toEqual(['{"a":"\\x"}', '["\\q",{"\\z":1}]']);
  });

  it('skips a whole byte-order mark (EF BB BF) only; part of one is a stray byte', () => {
    const body = Buffer.from('{"integrations":[1]}');
    expect(locateRecords(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), body]))?.ranges).toEqual([20, 21]);
    for (const prefix of [
      [0x78, 0xbb, 0xbf],
      [0xef, 0x78, 0xbf],
      [0xef, 0xbb, 0x78],
      [0x78, 0x78, 0xbf],
    ]) {
      expect(locateRecords(Buffer.concat([Buffer.from(prefix), body])), prefix.join(' ')).toBeNull();
    }
  });

  it.each([
    ['a list at the top', '[{"integrations":[]}]'],
    ['a string at the top', '"integrations"'],
    ['bytes before the object', 'x{"integrations":[]}'],
    ['bytes after it', '{"integrations":[]} {}'],
    ['a second object after it', '{"integrations":[]}{"integrations":[]}'],
    ['no records list', '{"format":"alphaswarm.integrations"}'],
    ['`integrations` that is not a list', '{"integrations":{"a":1}}'],
    ['`integrations` an object closed as a list', '{"integrations":{"a":1]}'],
    ['two records lists', '{"integrations":[1],"integrations":[2]}'],
    ['a comma with nothing before it', '{"integrations":[,1]}'],
    ['two commas in a row', '{"integrations":[1,,2]}'],
    ['a comma before the end', '{"integrations":[1,]}'],
    ['an object left open', '{"integrations":[1]'],
    ['a list left open', '{"integrations":[1}'],
    ['one close too many', '{"integrations":[1]}}'],
    ['a string left open', '{"integrations":["a]}'],
    ['a key that is not valid JSON', '{"in\\xtegrations":[1]}'],
    ['a header that is not valid JSON', '{"integrations":[1],"v":tru}'],
    ['nothing', ''],
    ['only a byte-order mark', '\ufeff'],
  ])('%s: null, so the caller parses the whole text and reports the problem', (_, text) => {
    expect(locateRecords(Buffer.from(text))).toBeNull();
  });
});

describe('describeJsonError: where the JSON breaks, never what it says there', () => {
  const describe_ = (text: string) => {
    try {
      JSON.parse(text);
    } catch (error) {
      return describeJsonError(error as Error, text);
    }
    throw new Error(`valid JSON: ${text}`);
  };

  it('a document that stops early is truncated, at the byte where it ends', () => {
    expect(describe_('{"integrations":[{"a":1}')).toBe(
      'the file is truncated: its JSON ends at byte 24 before the document is complete',
    );
    expect(describe_('{"integrations":["hf_SECRET')).toBe(
      'the file is truncated: its JSON ends at byte 27 before the document is complete',
    );
    // Trailing whitespace is not where it ends.
    expect(describe_('{"a":\n  \n')).toMatch(/ends at byte 5 /);
  });

  it('a bad byte inside is named by line, column and position, and by what was expected', () => {
    const text = '{\n  "integrations": [\n    {"token": "hf_SECRETSECRET" x}\n  ]\n}';
    expect(describe_(text)).toBe(
      "malformed JSON at line 3, column 33 (position 54): Expected ',' or '}' after property value",
    );
    expect(describe_('{"a":1 x}')).toBe(
      "malformed JSON at line 1, column 8 (position 7): Expected ',' or '}' after property value",
    );
  });

  it('the excerpt V8 quotes from the file (a secret, maybe) is cut, short or long', () => {
    expect(describe_('{"a": hf_SECRET}')).toBe("malformed JSON: Unexpected token 'h'");
    const long = `{"a": 1,\n "b": hf_SECRET_${'X'.repeat(80)}}`;
    expect(describe_(long)).toBe("malformed JSON: Unexpected token 'h'");
  });

  it('an error without a position says what it is', () => {
    expect(describeJsonError(new Error('Unexpected token'), '{')).toBe('malformed JSON: Unexpected token');
  });
});
