// The JSON API at the script's own origin: no cookies, answers as {status, data, etag}.

export function client(base, site) {
  async function request(method, path, body, token, etag) {
    const headers = {};
    if (body) headers["Content-Type"] = "application/json";
    if (token) headers.Authorization = "Bearer " + token;
    if (etag) headers["If-None-Match"] = etag;
    const res = await fetch(base + "/api/" + path, {
      method, headers, body: body && JSON.stringify(body), credentials: "omit", cache: "no-cache"
    });
    let data = {};
    try { data = (await res.json()) || {}; } catch (e) { /* 204, 304 */ }
    return { status: res.status, data, etag: res.headers.get("ETag") };
  }
  const query = (params) => new URLSearchParams({ site, ...params });
  return { request, query, base, site };
}
