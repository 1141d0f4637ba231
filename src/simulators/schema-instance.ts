// Structured output for the simulated models (Bedrock's outputConfig, Azure's response_format): a
// small, deterministic JSON instance of the request's schema, so a client that parses the answer
// against its schema gets a valid object. Strings come from the user's words (a quoted phrase,
// else the start of the message), numbers from the first number in them, so tests can predict the values.
// https://docs.aws.amazon.com/bedrock/latest/userguide/structured-output.html
// https://learn.microsoft.com/azure/ai-foundry/openai/how-to/structured-outputs
type JsonObject = Record<string, unknown>;

const isObject = (value: unknown): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Depth beyond which optional structure is left out, so a recursive schema still ends. */
const MAX_DEPTH = 8;

const FORMATS: Record<string, string> = {
  'date-time': '2026-01-01T00:00:00Z',
  date: '2026-01-01',
  time: '00:00:00',
  duration: 'P1D',
  email: 'user@example.com',
  hostname: 'example.com',
  uri: 'https://example.com/',
  ipv4: '192.0.2.1',
  ipv6: '2001:db8::1',
  uuid: '00000000-0000-4000-8000-000000000000',
};

export interface InstanceSeed {
  /** The text of the last user message. */
  userText: string;
}

/** A value conforming to `schema`: required properties only, first enum value, first `anyOf` /
 * `oneOf` branch, `allOf` merged, local `$ref`s followed, one item per array (or `minItems`). */
export function schemaInstance(schema: JsonObject, seed: InstanceSeed): unknown {
  const quoted = /"([^"]+)"/.exec(seed.userText)?.[1];
  const digits = /-?\d+(?:\.\d+)?/.exec(seed.userText)?.[0];
  const context: Context = { root: schema, text: (quoted ?? seed.userText.slice(0, 64)).trim() || 'text', number: digits === undefined ? 1 : Number(digits) };
  return instance(schema, context, 0);
}

interface Context {
  root: JsonObject;
  text: string;
  number: number;
}

function resolve(schema: JsonObject, context: Context): JsonObject {
  let current = schema;
  for (let hops = 0; hops < 16 && typeof current['$ref'] === 'string'; hops++) {
    const ref = current['$ref'];
    if (!ref.startsWith('#')) break;
    let target: unknown = context.root;
    for (const part of ref.slice(1).split('/').filter(Boolean)) {
      target = isObject(target) ? target[part.replace(/~1/g, '/').replace(/~0/g, '~')] : undefined;
    }
    if (!isObject(target)) break;
    const { $ref: _ref, ...rest } = current;
    current = { ...target, ...rest };
  }
  return current;
}

function instance(raw: unknown, context: Context, depth: number): unknown {
  if (!isObject(raw)) return raw === false ? null : context.text;
  const schema = resolve(raw, context);
  if ('const' in schema) return schema['const'];
  const enumValues = schema['enum'];
  if (Array.isArray(enumValues) && enumValues.length > 0) return enumValues[0];
  for (const key of ['anyOf', 'oneOf'] as const) {
    const branches = schema[key];
    if (Array.isArray(branches) && branches.length > 0) {
      // Prefer a branch that is not just null, so the answer carries a value.
      const branch = branches.find((b) => !(isObject(b) && b['type'] === 'null')) ?? branches[0];
      return instance(branch, context, depth + 1);
    }
  }
  const allOf = schema['allOf'];
  if (Array.isArray(allOf) && allOf.length > 0) {
    const merged: JsonObject = { ...schema, allOf: undefined };
    for (const part of allOf) if (isObject(part)) Object.assign(merged, mergeObjects(merged, resolve(part, context)));
    delete merged['allOf'];
    return instance(merged, context, depth);
  }

  const type = typeOf(schema);
  switch (type) {
    case 'null':
      return null;
    case 'boolean':
      return true;
    case 'integer':
    case 'number':
      return numberFor(schema, context, type === 'integer');
    case 'string':
      return stringFor(schema, context);
    case 'array':
      return arrayFor(schema, context, depth);
    case 'object':
      return objectFor(schema, context, depth);
    default:
      return context.text;
  }
}

/** The schema's type; for a list of types the first that is not null; inferred from keywords when absent. */
function typeOf(schema: JsonObject): string | undefined {
  const type = schema['type'];
  if (typeof type === 'string') return type;
  if (Array.isArray(type)) return (type.find((t) => t !== 'null') ?? type[0]) as string | undefined;
  if (isObject(schema['properties'])) return 'object';
  if (schema['items'] !== undefined || Array.isArray(schema['prefixItems'])) return 'array';
  return undefined;
}

function mergeObjects(a: JsonObject, b: JsonObject): JsonObject {
  const out: JsonObject = { ...a, ...b };
  if (isObject(a['properties']) || isObject(b['properties'])) out['properties'] = { ...(a['properties'] as JsonObject), ...(b['properties'] as JsonObject) };
  const required = [...((a['required'] as string[] | undefined) ?? []), ...((b['required'] as string[] | undefined) ?? [])];
  if (required.length > 0) out['required'] = [...new Set(required)];
  return out;
}

function numberFor(schema: JsonObject, context: Context, integer: boolean): number {
  let value = integer ? Math.trunc(context.number) : context.number;
  const num = (key: string) => (typeof schema[key] === 'number' ? (schema[key] as number) : undefined);
  const min = num('minimum');
  const max = num('maximum');
  const exclusiveMin = num('exclusiveMinimum');
  const exclusiveMax = num('exclusiveMaximum');
  if (min !== undefined && value < min) value = integer ? Math.ceil(min) : min;
  if (exclusiveMin !== undefined && value <= exclusiveMin) value = integer ? Math.floor(exclusiveMin) + 1 : exclusiveMin + 1;
  if (max !== undefined && value > max) value = integer ? Math.floor(max) : max;
  if (exclusiveMax !== undefined && value >= exclusiveMax) value = integer ? Math.ceil(exclusiveMax) - 1 : exclusiveMax - 1;
  const multipleOf = num('multipleOf');
  if (multipleOf !== undefined && multipleOf > 0) value = Math.ceil(value / multipleOf) * multipleOf;
  return value;
}

function stringFor(schema: JsonObject, context: Context): string {
  const format = typeof schema['format'] === 'string' ? FORMATS[schema['format']] : undefined;
  let value = format ?? context.text;
  const minLength = typeof schema['minLength'] === 'number' ? schema['minLength'] : 0;
  const maxLength = typeof schema['maxLength'] === 'number' ? schema['maxLength'] : undefined;
  if (format === undefined) {
    if (value.length < minLength) value = value.padEnd(minLength, '.');
    if (maxLength !== undefined && value.length > maxLength) value = value.slice(0, maxLength);
  }
  return value;
}

function arrayFor(schema: JsonObject, context: Context, depth: number): unknown[] {
  const prefix = Array.isArray(schema['prefixItems']) ? (schema['prefixItems'] as unknown[]) : [];
  const items = schema['items'];
  const minItems = typeof schema['minItems'] === 'number' ? schema['minItems'] : 0;
  const maxItems = typeof schema['maxItems'] === 'number' ? schema['maxItems'] : Number.POSITIVE_INFINITY;
  const out = prefix.map((item) => instance(item, context, depth + 1));
  // One element to show the shape, unless the schema allows none or recursion went deep.
  const wanted = Math.min(maxItems, Math.max(minItems, depth < MAX_DEPTH && out.length === 0 ? 1 : 0));
  if (items !== undefined && items !== false) while (out.length < wanted) out.push(instance(items, context, depth + 1));
  return out;
}

function objectFor(schema: JsonObject, context: Context, depth: number): JsonObject {
  const properties = isObject(schema['properties']) ? schema['properties'] : {};
  const required = Array.isArray(schema['required']) ? (schema['required'] as unknown[]).filter((r): r is string => typeof r === 'string') : [];
  const out: JsonObject = {};
  // Property order as declared (as Claude writes them), required ones only.
  for (const name of Object.keys(properties)) if (required.includes(name)) out[name] = instance(properties[name], context, depth + 1);
  for (const name of required) if (!(name in out)) out[name] = context.text;
  return out;
}
