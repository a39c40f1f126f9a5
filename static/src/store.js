// The reader's own state in this browser (localStorage, "parley:" keys): edit tokens, held
// comments, drafts, proof of earlier comments; name and email only when they tick "remember".

export const store = {
  get(k) { try { return JSON.parse(localStorage.getItem("parley:" + k)); } catch (e) { return null; } },
  set(k, v) {
    try { v == null ? localStorage.removeItem("parley:" + k) : localStorage.setItem("parley:" + k, JSON.stringify(v)); }
    catch (e) { /* private mode: nothing is kept */ }
  }
};

/** A value kept until `x` (a time in ms), as the edit tokens and held comments are. */
export const live = (v) => (v && v.x > Date.now() ? v : null);
