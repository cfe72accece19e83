// Small progressive enhancements; every page works without this file.
document.addEventListener("DOMContentLoaded", function () {
  // Buttons that change data ask first when they carry data-confirm.
  document.body.addEventListener("click", function (event) {
    var target = event.target.closest("[data-confirm]");
    if (target && !window.confirm(target.dataset.confirm)) {
      event.preventDefault();
      event.stopPropagation();
    }
  }, true);
});
// htmx: show server-rendered error fragments (4xx) in place instead of dropping them.
document.addEventListener("htmx:beforeSwap", function (event) {
  var status = event.detail.xhr.status;
  if (status === 409 || status === 412 || status === 422) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});
