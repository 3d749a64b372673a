"""What a page under test sends: Chromium does not hand playwright a multipart body that holds a
file, so the page's ``fetch`` is wrapped to record each FormData's text fields."""

# playwright's ``page.evaluate(RECORD_FORMS)`` calls this function in the page; then
# ``page.evaluate("window.sentForms")`` is a list of {"url", "fields"} in sending order.
RECORD_FORMS = """() => {
  window.sentForms = [];
  const send = window.fetch;
  window.fetch = (url, options) => {
    const body = options && options.body;
    if (body instanceof FormData) {
      const text = [...body.entries()].filter(([, v]) => typeof v === "string");
      window.sentForms.push({ url: String(url), fields: Object.fromEntries(text) });
    }
    return send(url, options);
  };
}"""
