// Polls a background task's progress once a second and moves the bar; when the task ends the
// page reloads to show its result.
(function () {
  "use strict";
  var bar = document.getElementById("task-progress");
  if (!bar || bar.dataset.status !== "running") { return; }
  var said = document.getElementById("task-said");
  function poll() {
    fetch(bar.dataset.url, { headers: { Accept: "application/json" } })
      .then(function (reply) { return reply.json(); })
      .then(function (task) {
        if (task.total) { bar.max = task.total; bar.value = task.done; }
        said.textContent = task.total ? task.done + " / " + task.total : "";
        if (task.status !== "running") { window.location.reload(); return; }
        setTimeout(poll, 1000);
      })
      .catch(function () { setTimeout(poll, 3000); });
  }
  setTimeout(poll, 500);
})();
