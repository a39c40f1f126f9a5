// A thread as data (comments by id, roots, cursor, total, closed, sort, votes) and its
// loading, paging and live polling; the view renders from it.

/** The state of one mounted thread. */
export function threadState(sort) {
  return { sort, roots: [], byId: new Map(), cursor: null, total: 0, closed: false, votes: false, etag: null };
}

function index(state, comments) {
  const walk = (c) => { state.byId.set(c.id, c); (c.replies || []).forEach(walk); };
  comments.forEach(walk);
}

/** Load the first page (cursor null) or the next one into `state`; "ok", "same" or an error. */
export async function loadPage(api, key, state, more) {
  const params = api.query({ thread: key, sort: state.sort });
  if (more) params.set("cursor", state.cursor);
  else { params.set("title", document.title.slice(0, 300)); params.set("url", location.href.split(/[?#]/)[0]); }
  const res = await api.request("GET", "comments?" + params, null, null, more ? null : state.etag);
  // Sorted otherwise meanwhile (a second choice in the menu): that later answer is the one.
  if (res.status === 304 || params.get("sort") != state.sort) return "same";
  if (res.status !== 200) return res;
  const { thread, comments, next_cursor: next } = res.data;
  if (!more) { state.roots = []; state.byId.clear(); state.etag = res.etag; }
  Object.assign(state, { total: thread.count, closed: thread.closed, votes: !!thread.votes, cursor: next });
  state.roots.push(...comments);
  index(state, comments);
  return "ok";
}
