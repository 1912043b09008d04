/** Parses a Compose `.env` file: `KEY=value` lines, `#` comments, optional `export `, quoted values. */
export function parseEnvFile(text: string): Record<string, string> {
  const variables: Record<string, string> = {};
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(.*)$/.exec(line);
    if (!match) continue;
    let value = match[2]!;
    const quote = value[0];
    if ((quote === '"' || quote === "'") && value.length >= 2 && value.endsWith(quote)) {
      value = value.slice(1, -1);
    } else {
      value = value.replace(/\s+#.*$/, '');
    }
    variables[match[1]!] = value;
  }
  return variables;
}

const VARIABLE = /\$(?:\$|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+?])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g;

/**
 * Compose variable substitution: `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`,
 * `${VAR:+alt}`, `${VAR+alt}`, `$$`. `${VAR:?msg}` does not fail discovery: an unset required
 * variable, like any unset one, becomes empty (what Compose warns about and does otherwise).
 */
export function interpolate(text: string, variables: Readonly<Record<string, string>>): string {
  return text.replace(VARIABLE, (match, braced?: string, operator?: string, argument = '', bare?: string) => {
    if (match === '$$') return '$';
    const value = variables[(braced ?? bare)!];
    const isSet = value !== undefined;
    const isNonEmpty = isSet && value !== '';
    switch (operator) {
      case ':-':
        return isNonEmpty ? value : argument;
      case '-':
        return isSet ? value : argument;
      case ':+':
        return isNonEmpty ? argument : '';
      case '+':
        return isSet ? argument : '';
      default:
        return value ?? '';
    }
  });
}
