/** Upstream text fit for one line of an error message: control characters gone, at most 300 characters. */
export function clip(text: string): string {
  const flat = text
    .replace(/\p{Cc}+/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return flat.length > 300 ? `${flat.slice(0, 300)}…` : flat;
}

/** A Terraform string literal whose `${…}` and `%{…}` stay literal text. */
export function hcl(value: string): string {
  return JSON.stringify(value)
    .replace(/\$\{/g, () => '$${')
    .replace(/%\{/g, () => '%%{');
}

/** One single-quoted POSIX shell word. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** A configured base URL without its trailing slashes, ready for `${base}/path`. */
export function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}
