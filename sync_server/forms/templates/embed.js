/* Glowdesk lead form for {{ clinic_name }}: put this where the form should appear:
 *   <script src="{{ base }}/f/{{ slug }}/embed.js" async></script>
 * or give an element data-glowdesk-form and load the script anywhere on the page.
 * It carries the visitor's UTM parameters, click ids (fbclid, gclid, gbraid, wbraid), landing page
 * and referrer into the form; they are kept for the visit (sessionStorage), so a visitor who lands
 * on an ad's page and fills the form on another page of the site is still attributed. */
(function () {
  var BASE = {{ base | tojson }}, SLUG = {{ slug | tojson }};
  var KEYS = ["utm_source","utm_medium","utm_campaign","utm_content","utm_term","fbclid","gclid","gbraid","wbraid"];
  var STORE = "glowdesk_attribution";
  var script = document.currentScript;
  var saved = {};
  try { saved = JSON.parse(sessionStorage.getItem(STORE) || "{}"); } catch (e) { saved = {}; }
  var params = new URLSearchParams(window.location.search);
  var fresh = KEYS.some(function (k) { return params.get(k); });
  if (fresh || !saved.landing_page) {
    saved = {landing_page: window.location.href, referrer: document.referrer};
    KEYS.forEach(function (k) { if (params.get(k)) { saved[k] = params.get(k); } });
    try { sessionStorage.setItem(STORE, JSON.stringify(saved)); } catch (e) { /* private mode */ }
  }
  var query = new URLSearchParams({embed: "1"});
  Object.keys(saved).forEach(function (k) { if (saved[k]) { query.set(k, saved[k]); } });
  var frame = document.createElement("iframe");
  frame.src = BASE + "/f/" + encodeURIComponent(SLUG) + "/lead?" + query.toString();
  frame.title = {{ ("Request a consultation at " ~ clinic_name) | tojson }};
  frame.style.cssText = "width:100%;min-height:640px;border:0;display:block;";
  frame.setAttribute("loading", "lazy");
  window.addEventListener("message", function (event) {
    if (event.origin === BASE && event.data && event.data.glowdesk === "height") {
      frame.style.height = (event.data.height + 24) + "px";
    }
  });
  var target = document.querySelector("[data-glowdesk-form]");
  if (target) { target.appendChild(frame); }
  else if (script && script.parentNode) { script.parentNode.insertBefore(frame, script.nextSibling); }
  else { document.body.appendChild(frame); }
})();
