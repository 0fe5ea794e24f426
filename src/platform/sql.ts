// A small SQL template tag for the raw driver (Database.queryRows), for hot paths where Prisma's per-call
// cost dominates: `sql\`... ${value} ...\`` makes a numbered parameter of each value; a nested `sql`
// fragment is spliced in with its own parameters renumbered. Values are never inlined in the text.

export class Sql {
  constructor(
    readonly strings: readonly string[],
    readonly values: readonly unknown[],
  ) {}

  /** `text` with $1..$n placeholders and the matching `values`, nested fragments flattened. */
  render(): { text: string; values: unknown[] } {
    const values: unknown[] = [];
    const text = this.#render(values);
    return { text, values };
  }

  #render(values: unknown[]): string {
    let text = this.strings[0]!;
    this.values.forEach((value, index) => {
      if (value instanceof Sql) text += value.#render(values);
      else {
        values.push(value);
        text += `$${values.length}`;
      }
      text += this.strings[index + 1]!;
    });
    return text;
  }
}

export function sql(strings: TemplateStringsArray, ...values: unknown[]): Sql {
  return new Sql(strings, values);
}

export const emptySql = new Sql([""], []);
