// Strings from /i18n/<lang>.json: English too (static/i18n/en.json, the key list every
// language has in full: a test checks), fetched while the thread's first page loads.

let table = {};
let plural;

/** The string for `key`, with {n} replaced: `key_one`, `key_few`… where the language says
 * so for n (Intl.PluralRules), else `key`. */
export const t = (key, n) => (table[key + "_" + plural?.select(n)] || table[key] || key).replace("{n}", n);

const get = async (base, code) => {
  const res = await fetch(base + "/i18n/" + code + ".json");
  if (!res.ok) throw res;
  return res.json();
};

/** Load a language (the page's <html lang> unless data-lang says otherwise); English when
 * the server has not got it. Returns the code in use. */
export async function useLanguage(base, lang) {
  let code = (lang || "en").toLowerCase().split("-")[0];
  table = await get(base, code).catch(() => get(base, (code = "en")));
  plural = new Intl.PluralRules(code);
  return code;
}
