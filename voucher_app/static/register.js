// Checks the credit code as it is typed (GET /api/v1/uscc/<code>) and says what is wrong, in
// the page's language, next to the field. A valid code suggests the home center its region
// names, only while no center is chosen (the list starts empty: nothing is chosen for the
// user unseen), and says so beside the code.
(function () {
  "use strict";
  var input = document.getElementById("uscc");
  var out = document.getElementById("uscc-check");
  var center = document.getElementById("home_center");
  var messages = JSON.parse(document.getElementById("uscc-messages").textContent);
  var timer = null;

  function show(text, bad) {
    out.textContent = text;
    out.className = "live " + (bad ? "bad" : "good");
    input.setAttribute("aria-invalid", bad ? "true" : "false");
  }

  function check() {
    var code = input.value.trim();
    if (code.length < 18) { out.textContent = ""; out.className = "live"; return; }
    fetch(messages.check.replace("CODE", encodeURIComponent(code)), { headers: { Accept: "application/json" } })
      .then(function (reply) { return reply.json(); })
      .then(function (found) {
        if (!found.valid) { show(messages.reasons[found.reason] || "", true); return; }
        if (found.registered) { show(messages.registered, true); return; }
        var option = found.home_center && center.querySelector("option[value='" + found.home_center + "']");
        if (option && !center.value) {
          center.value = found.home_center;
          show(messages.suggested.replace("CENTER", option.textContent), false);
        } else {
          show(messages.valid, false);
        }
      })
      .catch(function () { out.textContent = ""; });
  }

  input.setAttribute("aria-describedby", (input.getAttribute("aria-describedby") || "") + " uscc-check");
  input.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(check, 250); });
  input.addEventListener("blur", check);
})();
