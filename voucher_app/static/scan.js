// The service desk's scanner: the phone's camera, or a photo, read by the vendored qr-scanner.
// A voucher's QR code carries its signed token; the page puts it in the redeem form and shows
// the voucher code it names (the server verifies the signature when the redemption is submitted).
(function () {
  "use strict";
  var messages = JSON.parse(document.getElementById("scan-messages").textContent);
  var result = document.getElementById("scan-result");
  var token = document.getElementById("token");
  var video = document.getElementById("scan-video");
  var scanner = null;

  function voucherCode(jws) {
    var parts = jws.split(".");
    if (parts.length !== 3) { return null; }
    try {
      var payload = parts[1].replace(/-/g, "+").replace(/_/g, "/");
      var fields = JSON.parse(decodeURIComponent(escape(atob(payload))));
      return fields.c || fields.code || null;  // "code" in tokens issued before RFC 9864's Ed25519
    } catch (error) { return null; }
  }

  function found(text) {
    var code = voucherCode(text);
    if (!code) { result.textContent = messages.unreadable; result.className = "live bad"; return; }
    token.value = text;
    result.textContent = messages.read.replace("CODE", code);
    result.className = "live good";
    result.dataset.code = code;
    if (scanner) { scanner.stop(); video.hidden = true; }
    document.getElementById("product_id").focus();
  }

  document.getElementById("scan-photo").addEventListener("change", function (event) {
    var file = event.target.files[0];
    if (!file) { return; }
    QrScanner.scanImage(file, { returnDetailedScanResult: true })
      .then(function (scan) { found(scan.data); })
      .catch(function () { result.textContent = messages.unreadable; result.className = "live bad"; });
  });

  document.getElementById("scan-camera").addEventListener("click", function () {
    video.hidden = false;
    scanner = scanner || new QrScanner(video, function (scan) { found(scan.data); },
      { returnDetailedScanResult: true, preferredCamera: "environment" });
    scanner.start().catch(function () {
      video.hidden = true;
      result.textContent = messages.nocamera;
      result.className = "live bad";
    });
  });
})();
