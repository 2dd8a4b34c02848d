// Point-and-click filters. Each chip is one term of the API's OData `filter` (field, operator,
// value), and the chips are joined with `and`. A filter typed by hand (or from a shared link)
// shows as chips when every part of it is one; otherwise it stays as text in the OData box.

export const OPERATORS = { eq: 'is', ne: 'is not', startswith: 'starts with' };

/** The operators a field of `type` ('text', 'enum' or 'bool') offers. */
export function operatorsFor(type) {
  return type === 'text' ? ['eq', 'ne', 'startswith'] : ['eq', 'ne'];
}

function quote(v) {
  return `'${String(v).replaceAll("'", "''")}'`;
}

/** One chip as OData. */
export function termText({ field, op, value, type }) {
  const literal = type === 'bool' ? String(value) : quote(value);
  return op === 'startswith' ? `startswith(${field},${literal})` : `${field} ${op} ${literal}`;
}

/** The `filter` the chips and the hand-typed text make together (either may be empty). */
export function compose(chips, raw) {
  const parts = chips.map(termText);
  const text = (raw || '').trim();
  if (text) parts.unshift(parts.length ? `(${text})` : text);
  return parts.join(' and ');
}

/** Splits at each ` and ` outside quotes and parentheses. */
export function splitAnd(text) {
  const parts = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "'") quoted = !quoted;
    else if (!quoted && c === '(') depth++;
    else if (!quoted && c === ')') depth--;
    else if (!quoted && depth === 0 && /^\sand\s/i.test(text.slice(i, i + 5))) {
      parts.push(text.slice(start, i).trim());
      start = i + 5;
      i += 4;
    }
  }
  parts.push(text.slice(start).trim());
  return parts;
}

const COMPARE = /^([A-Za-z][\w./]*)\s+(eq|ne)\s+(?:'((?:[^']|'')*)'|(true|false))$/i;
const STARTS = /^startswith\(\s*([A-Za-z][\w./]*)\s*,\s*'((?:[^']|'')*)'\s*\)$/i;

/**
 * The chips `text` is made of, for the list's `fields` ([{field, label, type, values}]), or null
 * when some part of it is not a chip (an `or`, a field the list does not offer, …).
 */
export function parseChips(text, fields) {
  if (!text?.trim()) return [];
  const chips = [];
  for (const part of splitAnd(text.trim())) {
    const m = COMPARE.exec(part);
    const s = m ? null : STARTS.exec(part);
    const path = (m?.[1] ?? s?.[1] ?? '').replaceAll('/', '.');
    const spec = fields.find((f) => f.field === path);
    if (!spec) return null;
    let chip;
    if (m) {
      const isBool = m[4] !== undefined;
      if (isBool !== (spec.type === 'bool')) return null;
      const value = isBool ? m[4].toLowerCase() === 'true' : m[3].replaceAll("''", "'");
      chip = { field: spec.field, op: m[2].toLowerCase(), value, type: spec.type };
    } else if (s && spec.type === 'text') {
      chip = { field: spec.field, op: 'startswith', value: s[2].replaceAll("''", "'"), type: spec.type };
    } else {
      return null;
    }
    chips.push(chip);
  }
  return chips;
}

/** `(x)` → `x` when the outer parentheses enclose the whole text. */
function unwrap(text) {
  if (!text.startsWith('(') || !text.endsWith(')')) return text;
  let depth = 0;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "'") quoted = !quoted;
    else if (!quoted && c === '(') depth++;
    else if (!quoted && c === ')' && --depth === 0 && i < text.length - 1) return text;
  }
  return text.slice(1, -1).trim();
}

/**
 * A filter as chips and the rest as text: each top-level `and` part that is a chip becomes one,
 * the others stay text (joined with `and`). `compose` puts them back together.
 */
export function splitFilter(text, fields) {
  const chips = [];
  const rest = [];
  for (const part of text?.trim() ? splitAnd(text.trim()) : []) {
    const chip = parseChips(part, fields);
    if (chip?.length === 1) chips.push(chip[0]);
    else rest.push(part);
  }
  return { chips, raw: rest.length === 1 ? unwrap(rest[0]) : rest.join(' and ') };
}

/** How a chip reads: "Sync status is failed". */
export function chipLabel(chip, fields) {
  const spec = fields.find((f) => f.field === chip.field);
  const value = spec?.type === 'bool' ? (chip.value ? 'yes' : 'no') : chip.value;
  return `${spec?.label ?? chip.field} ${OPERATORS[chip.op]} ${value}`;
}
