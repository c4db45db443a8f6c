// The SME's one-time passcode counts down the time it still works, from the seconds the server
// gave (the phone's own clock may be wrong; only its passing time is used). When it runs out the
// digits are struck through and a polite live region says so. Without this script the page
// shows the plain expiry time, which stays true.
(function () {
  "use strict";
  document.querySelectorAll(".passcode [data-seconds-left]").forEach(function (validity) {
    var box = validity.closest(".passcode");
    var countdown = validity.querySelector(".countdown");
    var said = box.querySelector(".expired-said");
    var end = Date.now() + Number(validity.dataset.secondsLeft) * 1000;
    var timer = null;

    function tick() {
      var left = Math.max(0, Math.ceil((end - Date.now()) / 1000));
      countdown.dataset.seconds = String(left);
      if (left === 0) {
        if (timer !== null) clearInterval(timer);
        countdown.hidden = true;
        box.classList.add("expired");
        said.textContent = validity.dataset.expired;
        return;
      }
      var clock = Math.floor(left / 60) + ":" + String(left % 60).padStart(2, "0");
      countdown.textContent = validity.dataset.left.replace("{time}", clock);
      countdown.hidden = false;
    }

    tick();
    if (!box.classList.contains("expired")) timer = setInterval(tick, 1000);
  });
})();
