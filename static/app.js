// Sharebox owner UI: upload progress and drag-and-drop, copy buttons, the browser's time zone.
// Every form works without this file; it only makes them nicer.
(function () {
  "use strict";

  // A size as the pages write it (web::size_label): bytes, then 1024-based KiB, MiB, GiB, TiB.
  var sizeLabel = function (bytes) {
    if (bytes === 1) { return "1 byte"; }
    if (bytes < 1024) { return bytes + " bytes"; }
    var units = ["KiB", "MiB", "GiB", "TiB"];
    var unit = 0;
    var div = 1024;
    var tenths = function (d) { return Math.round((bytes / d) * 10) / 10; };
    while (unit + 1 < units.length && tenths(div) >= 1024) { unit += 1; div *= 1024; }
    return String(tenths(div)) + " " + units[unit];
  };

  // Uploads go through tus (static/tus.min.js, tus-js-client) to /tus/ with the session cookie
  // and the CSRF header: 5 MiB chunks (under common proxy body limits), a pause and a resume
  // button per file, automatic retries after a dropped connection, and resumption after a
  // reload (tus-js-client remembers each file's upload URL in localStorage). Without tus the
  // one-request upload to /app/upload is used. A file over the server's limit is refused here,
  // before a byte is sent; a refusal from the server is shown as it says it. The library
  // reloads to list the new files only when every upload of the batch worked.
  var form = document.getElementById("upload");
  var tusClient = window.tus && window.tus.isSupported ? window.tus : null;
  if (form && window.XMLHttpRequest && window.FormData) {
    var input = document.getElementById("files");
    var list = document.getElementById("progress");
    var serverMessage = function (status, body) {
      var msg = "The upload failed (" + status + ").";
      try { msg = JSON.parse(body).msg || msg; } catch (e) { /* not JSON */ }
      return msg;
    };
    var sendWithTus = function (file, ui, done) {
      var meta = { filename: file.name, folder_uuid: form.dataset.folder };
      if (file.type) { meta.filetype = file.type; }
      var up = new tusClient.Upload(file, {
        endpoint: "/tus/",
        chunkSize: 5 * 1024 * 1024,
        retryDelays: [0, 1000, 3000, 5000, 10000, 20000, 30000],
        metadata: meta,
        headers: { "X-CSRF-Token": form.dataset.csrf },
        removeFingerprintOnSuccess: true,
        onProgress: function (sent, total) { ui.progress(total ? sent / total : 1); },
        onSuccess: function () { ui.pausable(false); done(true, ""); },
        onError: function (err) {
          ui.pausable(false);
          var res = err && err.originalResponse;
          done(false, res ? serverMessage(res.getStatus(), res.getBody())
            : "The upload was cut off: check the connection, then pick the file again to resume.");
        }
      });
      ui.onPause = function () { up.abort(); };
      ui.onResume = function () { up.start(); };
      // Cancel: stop, and terminate the upload on the server (its bytes go).
      ui.onCancel = function () { up.abort(true).then(function () {}, function () {}); };
      ui.pausable(true);
      up.findPreviousUploads().then(function (previous) {
        if (previous.length) { up.resumeFromPreviousUpload(previous[0]); }
        up.start();
      }, function () { up.start(); });
    };
    var sendWithXhr = function (file, ui, done) {
      var xhr = new XMLHttpRequest();
      xhr.open("POST", "/app/upload?folder_uuid=" + encodeURIComponent(form.dataset.folder));
      xhr.setRequestHeader("X-CSRF-Token", form.dataset.csrf);
      xhr.upload.onprogress = function (e) {
        if (e.lengthComputable) { ui.progress(e.loaded / e.total); }
      };
      xhr.onload = function () {
        if (xhr.status === 200) { done(true, ""); } else { done(false, serverMessage(xhr.status, xhr.responseText)); }
      };
      xhr.onerror = function () {
        done(false, "The upload was cut off: check the connection and try again.");
      };
      xhr.onabort = function () { /* cancelled: the row says so already */ };
      ui.onCancel = function () { xhr.abort(); };
      var data = new FormData();
      data.append("file", file, file.name);
      xhr.send(data);
    };
    var upload = function (files) {
      var pending = files.length;
      var failed = 0;
      var maxBytes = Number(form.dataset.maxBytes);
      var maxLabel = form.dataset.maxLabel || sizeLabel(maxBytes);
      var finish = function (ok, li, pct, msg) {
        li.className = ok ? "done" : "failed";
        if (!ok) { failed += 1; pct.textContent = msg; pct.setAttribute("role", "alert"); }
        pending -= 1;
        if (pending > 0) { return; }
        if (failed === 0) {
          setTimeout(function () { window.location.reload(); }, 400);
        } else if (failed < files.length) {
          var note = document.createElement("li");
          var again = document.createElement("a");
          again.href = window.location.href;
          again.textContent = "Show the files that were uploaded";
          note.appendChild(again);
          list.appendChild(note);
        }
      };
      Array.prototype.forEach.call(files, function (file) {
        var li = document.createElement("li");
        var name = document.createElement("span");
        name.textContent = file.name;
        var bar = document.createElement("progress");
        bar.max = 100;
        bar.value = 0;
        bar.setAttribute("aria-label", "Upload of " + file.name);
        var pct = document.createElement("span");
        pct.className = "pct";
        pct.textContent = "0%";
        var pause = document.createElement("button");
        pause.type = "button";
        pause.className = "button small pause";
        pause.textContent = "Pause";
        pause.hidden = true;
        var resume = document.createElement("button");
        resume.type = "button";
        resume.className = "button small resume";
        resume.textContent = "Resume";
        resume.hidden = true;
        li.appendChild(name);
        li.appendChild(bar);
        li.appendChild(pct);
        var cancel = document.createElement("button");
        cancel.type = "button";
        cancel.className = "button small danger cancel";
        cancel.textContent = "Cancel";
        li.appendChild(pause);
        li.appendChild(resume);
        li.appendChild(cancel);
        list.appendChild(li);
        var ui = {
          progress: function (share) {
            var p = Math.floor(share * 100);
            bar.value = p;
            pct.textContent = p + "%";
          },
          pausable: function (on) { pause.hidden = !on; resume.hidden = true; },
          onPause: null,
          onResume: null,
          onCancel: null,
          ended: false
        };
        cancel.addEventListener("click", function () {
          if (ui.ended) { return; }
          if (ui.onCancel) { ui.onCancel(); }
          pause.hidden = true;
          resume.hidden = true;
          done(false, "Cancelled: nothing of it was kept.");
        });
        pause.addEventListener("click", function () {
          if (ui.onPause) { ui.onPause(); }
          pause.hidden = true;
          resume.hidden = false;
          pct.textContent = "Paused at " + bar.value + "%";
        });
        resume.addEventListener("click", function () {
          resume.hidden = true;
          pause.hidden = false;
          if (ui.onResume) { ui.onResume(); }
        });
        if (maxBytes > 0 && file.size > maxBytes) {
          ui.ended = true;
          cancel.hidden = true;
          finish(false, li, pct, "Not sent: this file is " + sizeLabel(file.size) +
            ", over the limit of " + maxLabel + " per file.");
          return;
        }
        var done = function (ok, msg) {
          // Once per file: a cancel and a late answer must not count it twice.
          if (ui.ended) { return; }
          ui.ended = true;
          cancel.hidden = true;
          if (ok) { bar.value = 100; pct.textContent = "100%"; }
          finish(ok, li, pct, msg);
        };
        (tusClient ? sendWithTus : sendWithXhr)(file, ui, done);
      });
    };
    form.addEventListener("submit", function (e) {
      if (!input.files.length) { return; }
      e.preventDefault();
      upload(input.files);
    });
    ["dragenter", "dragover"].forEach(function (t) {
      form.addEventListener(t, function (e) { e.preventDefault(); form.classList.add("over"); });
    });
    ["dragleave", "drop"].forEach(function (t) {
      form.addEventListener(t, function (e) { e.preventDefault(); form.classList.remove("over"); });
    });
    form.addEventListener("drop", function (e) {
      if (e.dataTransfer && e.dataTransfer.files.length) { upload(e.dataTransfer.files); }
    });
  }

  // Copy a share link.
  Array.prototype.forEach.call(document.querySelectorAll("button.copy"), function (b) {
    b.addEventListener("click", function () {
      var text = b.dataset.copy;
      var done = function () { b.textContent = "Copied"; setTimeout(function () { b.textContent = "Copy"; }, 1500); };
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(text).then(done, function () {});
      } else {
        var field = b.parentNode.querySelector("input");
        if (field) { field.select(); document.execCommand("copy"); done(); }
      }
    });
  });

  // The users box matters only for "only these users": shown then, hidden otherwise.
  var access = document.getElementById("access");
  var users = document.getElementById("users");
  if (access && users) {
    var row = [document.querySelector("label[for=users]"), users.parentNode];
    var sync = function () {
      row.forEach(function (el) { if (el) { el.hidden = access.value !== "users"; } });
    };
    access.addEventListener("change", sync);
    sync();
  }

  // A zone not chosen yet defaults to the browser's.
  var zone = "";
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { zone = ""; }
  Array.prototype.forEach.call(document.querySelectorAll("input.zone"), function (s) {
    if (!s.dataset.value && zone) { s.value = zone; }
  });
})();
