// Progressive enhancement only: every form also works with its submit button and the keyboard.
// A filter select submits its form when changed (the Apply button stays for keyboard users).
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("select.auto").forEach(function (el) {
    el.addEventListener("change", function () { el.form.submit(); });
  });
});
