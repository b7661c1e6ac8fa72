import fc from 'fast-check';

/** The parts of a JSON Schema (as z.toJSONSchema writes it) that inputs are generated from. */
export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: JsonSchema | boolean;
  propertyNames?: JsonSchema;
  items?: JsonSchema;
  maxItems?: number;
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  minimum?: number;
  maximum?: number;
}

/** Strings that break things: control characters, lone surrogates, separators, markup, huge. */
const NASTY = [
  '',
  ' ',
  '\u0000',
  '\u0007',
  '\n',
  '\r\n',
  '\t',
  '\u0085',
  '\u2028',
  '\ud800',
  '\udfff',
  '\ufeff',
  '\ufffd',
  '%00',
  '%ZZ',
  '../../etc/passwd',
  '__proto__',
  'constructor',
  '"',
  '\\',
  '<script>alert(1)</script>',
  "' OR '1'='1",
  '𝕏',
  'é'.normalize('NFD'),
];

/** Any string: plain, any code unit (lone surrogates included), nasty, or far too long. */
export function anyString(maxLength = 80): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.string({ maxLength }) },
    { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength }) },
    { weight: 2, arbitrary: fc.constantFrom(...NASTY) },
    { weight: 1, arbitrary: fc.nat({ max: 3 }).map((n) => 'x'.repeat([65, 257, 4097, 70_000][n] ?? 65)) },
  );
}

/** Any JSON value, small. */
export const anyJson: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: anyString() },
  { weight: 1, arbitrary: fc.constantFrom(null, true, 0, -1, 1e308, [], {}) },
);

function stringFrom(schema: JsonSchema): fc.Arbitrary<string> {
  const max = schema.maxLength ?? 100;
  const conforming: fc.Arbitrary<string>[] = [];
  if (schema.pattern) conforming.push(fc.stringMatching(new RegExp(schema.pattern)).map((v) => v.slice(0, max)));
  else if (schema.format === 'uuid') conforming.push(fc.uuid());
  else if (schema.format === 'email') conforming.push(fc.emailAddress());
  else if (schema.format === 'date-time')
    conforming.push(
      fc
        .date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true })
        .map((d) => d.toISOString().replace(/\.\d{3}Z$/, 'Z')),
    );
  else conforming.push(fc.string({ minLength: schema.minLength ?? 0, maxLength: Math.min(max, 200) }));
  return fc.oneof({ weight: 4, arbitrary: fc.oneof(...conforming) }, { weight: 1, arbitrary: anyString(max + 2) });
}

/**
 * Inputs near a JSON Schema: mostly what it describes (every enum member, pattern-conforming
 * strings, bounds and one past them), with a share of anything at every level.
 */
export function fromSchema(schema: JsonSchema | undefined, depth = 0): fc.Arbitrary<unknown> {
  if (!schema || depth > 4) return anyJson;
  const near = nearSchema(schema, depth);
  return fc.oneof({ weight: 9, arbitrary: near }, { weight: 1, arbitrary: anyJson });
}

function nearSchema(schema: JsonSchema, depth: number): fc.Arbitrary<unknown> {
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives) return fc.oneof(...alternatives.map((s) => fromSchema(s, depth + 1)));
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'string':
      return stringFrom(schema);
    case 'integer':
    case 'number': {
      const min = (schema.minimum ?? -1_000_000) - 1;
      const max = (schema.maximum ?? 1_000_000) + 1;
      return type === 'integer'
        ? fc.integer({ min, max })
        : fc.oneof(fc.double({ min, max, noNaN: true }), fc.integer({ min, max }));
    }
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array':
      return fc.array(fromSchema(schema.items, depth + 1), { maxLength: Math.min(schema.maxItems ?? 4, 4) + 1 });
    case 'object': {
      if (schema.properties) {
        const required = new Set(schema.required ?? []);
        const keys = Object.keys(schema.properties);
        return fc.record(Object.fromEntries(keys.map((k) => [k, fromSchema(schema.properties?.[k], depth + 1)])), {
          requiredKeys: keys.filter((k) => required.has(k)),
        });
      }
      const values = typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined;
      return fc.dictionary(
        schema.propertyNames ? stringFrom(schema.propertyNames) : anyString(20),
        fromSchema(values, depth + 1),
        {
          maxKeys: 4,
        },
      );
    }
    default:
      return anyJson;
  }
}

type Path = (string | number)[];

/** Paths of the string leaves of a value. */
export function stringLeaves(value: unknown, at: Path = []): Path[] {
  if (typeof value === 'string') return [at];
  if (Array.isArray(value)) return value.flatMap((v, i) => stringLeaves(v, [...at, i]));
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => stringLeaves(v, [...at, k]));
  return [];
}

function leaves(value: unknown, at: Path = []): Path[] {
  if (Array.isArray(value)) return [at, ...value.flatMap((v, i) => leaves(v, [...at, i]))];
  if (value && typeof value === 'object')
    return [at, ...Object.entries(value).flatMap(([k, v]) => leaves(v, [...at, k]))];
  return [at];
}

/** A copy of `value` with the node at `path` replaced (undefined deletes a key). */
export function setAt(value: unknown, path: Path, replace: (old: unknown) => unknown): unknown {
  if (path.length === 0) return replace(value);
  const [head, ...rest] = path as [string | number, ...Path];
  const copy: any = Array.isArray(value) ? [...value] : { ...(value as object) };
  const next = setAt(copy[head], rest, replace);
  if (next === undefined && !Array.isArray(copy)) delete copy[head];
  else copy[head] = next;
  return copy;
}

/** A valid sample with one thing wrong: a node replaced, removed, stretched, or a stranger added. */
export function mutationsOf(sample: unknown): fc.Arbitrary<unknown> {
  const paths = leaves(sample);
  const strings = stringLeaves(sample);
  const options: fc.Arbitrary<unknown>[] = [
    fc.tuple(fc.constantFrom(...paths), anyJson).map(([path, v]) => setAt(sample, path, () => v)),
    fc.constantFrom(...paths).map((path) => setAt(sample, path, () => undefined)),
  ];
  if (sample && typeof sample === 'object' && !Array.isArray(sample)) {
    options.push(fc.tuple(anyString(20), anyJson).map(([k, v]) => ({ ...(sample as object), [k]: v })));
  }
  if (strings.length > 0) {
    options.push(
      fc.tuple(fc.constantFrom(...strings), anyString(), fc.nat()).map(([path, insert, at]) =>
        setAt(sample, path, (old) => {
          const s = String(old);
          const i = at % (s.length + 1);
          return s.slice(0, i) + insert + s.slice(i);
        }),
      ),
    );
  }
  return fc.oneof(...options);
}
