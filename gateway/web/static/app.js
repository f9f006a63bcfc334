// Lyceum's enhancements. Every page works without this file; with it,
// forms that upload check their fields first, then show their progress,
// files may be dropped, the error summary takes the focus, "copy" buttons
// copy, and a resource's page counts the peers holding its file. No inline
// script: the Content-Security-Policy allows only this file.
"use strict";

document.addEventListener("DOMContentLoaded", () => enhance(document));

// A page shown after an upload was put in the history by pushState: going
// back loads that page again from the node.
window.addEventListener("popstate", () => window.location.reload());

// enhance sets up a page (again, after an upload replaced it).
function enhance(root) {
  const summary = root.querySelector(".error-summary");
  if (summary) summary.focus();
  root.querySelectorAll("[data-copy]").forEach(enhanceCopy);
  root.querySelectorAll("form[data-upload]").forEach(enhanceUpload);
  root.querySelectorAll("[data-providers]").forEach(loadProviders);
}

// enhanceCopy makes a button copy the text of the element it names.
function enhanceCopy(button) {
  button.hidden = false;
  const label = button.textContent;
  button.addEventListener("click", async () => {
    const target = document.getElementById(button.dataset.copy);
    if (!target) return;
    try {
      await navigator.clipboard.writeText(target.value || target.textContent);
      button.textContent = button.dataset.copied || label;
      setTimeout(() => { button.textContent = label; }, 3000);
    } catch (e) {
      if (target.select) target.select();
    }
  });
}

// enhanceUpload sends a form with a file by XMLHttpRequest, to show the
// upload's progress, and lets a file be dropped on its drop zone (the
// file input stays a real, focusable input). Before a file is sent, the
// fields are checked (?check=1), so that a typo does not cost an upload.
// The file always goes last: the node reads the fields before the file.
function enhanceUpload(form) {
  const input = form.querySelector("input[type=file]");
  const zone = form.querySelector(".drop");
  const status = form.querySelector("[data-upload-status]");
  if (zone && input) enhanceDrop(zone, input);
  if (input) {
    input.addEventListener("change", () => {
      showClientError(form, "");
      const f = input.files[0];
      if (!f) return;
      if (status) status.textContent = f.name;
      const title = form.querySelector("input[name=title]");
      if (title && !title.value) title.value = f.name.replace(/\.[^.]+$/, "").replace(/[_-]+/g, " ").trim();
    });
  }
  form.addEventListener("submit", (e) => {
    if (!window.FormData || !window.XMLHttpRequest || !window.DOMParser) return;
    e.preventDefault();
    submitUpload(form, input, e.submitter || null);
  });
}

// dropTarget is the file input a file dropped anywhere on the page goes
// to (rather than the browser leaving the page to open the file).
let dropTarget = null;
window.addEventListener("dragover", (e) => { if (dropTarget) e.preventDefault(); });
window.addEventListener("drop", (e) => {
  if (!dropTarget || !document.contains(dropTarget)) return;
  e.preventDefault();
  if (e.dataTransfer && e.dataTransfer.files.length) {
    dropTarget.files = e.dataTransfer.files;
    dropTarget.dispatchEvent(new Event("change"));
    dropTarget.focus();
  }
});

// enhanceDrop lets a file be dropped on the zone around the file input,
// or anywhere on the page.
function enhanceDrop(zone, input) {
  dropTarget = input;
  ["dragenter", "dragover"].forEach((t) => zone.addEventListener(t, (e) => { e.preventDefault(); zone.classList.add("over"); }));
  // The drop itself bubbles to the window's handler.
  ["dragleave", "drop"].forEach((t) => zone.addEventListener(t, () => zone.classList.remove("over")));
}

// showClientError shows (or clears) a message next to the file field.
function showClientError(form, text) {
  const el = form.querySelector("[data-upload-error]");
  if (!el) return;
  el.textContent = text;
  el.hidden = !text;
}

// formData is the form's fields with the file last, or without it.
function formData(form, input, withFile) {
  const data = new FormData(form);
  if (!input) return data;
  data.delete(input.name);
  if (withFile && input.files.length) data.append(input.name, input.files[0]);
  return data;
}

function csrfToken(form) {
  const token = form.querySelector("input[name=csrf]");
  return token ? token.value : "";
}

// submitUpload sends the form to where its submitter says (a draft is
// saved by the button that has its own formaction), checking the fields
// first unless it is a draft, which is saved as it is.
async function submitUpload(form, input, submitter) {
  const file = input && input.files.length ? input.files[0] : null;
  const max = Number(form.dataset.maxBytes || 0);
  if (file && max && file.size > max) {
    showClientError(form, form.dataset.tooLarge || "");
    input.focus();
    return;
  }
  const button = submitter || form.querySelector("button[type=submit]");
  const action = submitter && submitter.hasAttribute("formaction") ? submitter.formAction : form.action;
  const draft = submitter && submitter.hasAttribute("data-draft");
  if (button) button.disabled = true;
  if (file && !draft && !(await checkFields(form, input, action))) return;
  sendUpload(form, input, button, action);
}

// checkFields asks the node to check the fields without the file: 202
// when they are good; otherwise the page with the errors replaces this
// one. A network failure lets the upload go ahead (the node checks again).
async function checkFields(form, input, action) {
  const url = new URL(action);
  url.searchParams.set("check", "1");
  try {
    const res = await fetch(url, { method: "POST", body: formData(form, input, false), headers: { "X-CSRF-Token": csrfToken(form) }, credentials: "same-origin" });
    if (res.status === 202) return true;
    showPage(await res.text(), null);
    return false;
  } catch (e) {
    return true;
  }
}

// sendUpload sends the form with its file, showing the progress.
function sendUpload(form, input, button, action) {
  const bar = form.querySelector("progress");
  const status = form.querySelector("[data-upload-status]");
  const xhr = new XMLHttpRequest();
  xhr.open("POST", action);
  xhr.setRequestHeader("X-CSRF-Token", csrfToken(form));
  if (bar) { bar.hidden = false; bar.value = 0; }
  xhr.upload.addEventListener("progress", (ev) => {
    if (!ev.lengthComputable) return;
    const pct = Math.floor((ev.loaded / ev.total) * 100);
    if (bar) bar.value = pct;
    if (status) status.textContent = (form.dataset.uploading || "") + " " + pct + " %";
  });
  xhr.upload.addEventListener("load", () => {
    if (status) status.textContent = form.dataset.processing || "";
  });
  xhr.addEventListener("load", () => {
    if (!xhr.responseText) {
      failed(form, button, status);
      return;
    }
    const moved = xhr.responseURL && xhr.responseURL !== action;
    showPage(xhr.responseText, moved ? xhr.responseURL : null);
  });
  xhr.addEventListener("error", () => failed(form, button, status));
  xhr.send(formData(form, input, true));
}

function failed(form, button, status) {
  if (button) button.disabled = false;
  const bar = form.querySelector("progress");
  if (bar) bar.hidden = true;
  if (status) status.textContent = form.dataset.failed || "Upload failed.";
}

// showPage replaces the page with one the node answered (the resource's
// page once published, or the form with its errors), without running any
// script of it, and sets the address when it changed.
function showPage(html, url) {
  const doc = new DOMParser().parseFromString(html, "text/html");
  if (url) window.history.pushState(null, "", url);
  document.title = doc.title;
  document.body.replaceWith(document.adoptNode(doc.body));
  window.scrollTo(0, 0);
  enhance(document);
  if (!document.querySelector(".error-summary")) {
    const main = document.getElementById("main");
    if (main) main.focus();
  }
}

// loadProviders asks the node how many peers hold a file, after the page
// is shown (a DHT lookup takes seconds).
async function loadProviders(el) {
  try {
    const res = await fetch(el.dataset.providers, { headers: { Accept: "application/json" }, credentials: "same-origin" });
    const data = await res.json();
    if (data.text) el.textContent = data.text;
  } catch (e) {
    // The placeholder stays.
  }
}
