// A file request's page: each chosen or dropped file goes through tus (static/tus.min.js) to
// /r/<puid>/tus/ with the uploader's cookie, in 5 MiB chunks, with progress, retries after a
// dropped connection, a cancel, and resumption after a reload. Without this file (or without
// tus support) the form posts the files whole: every limit is the server's either way.
(function () {
  "use strict";
  var form = document.getElementById("request-form");
  var tusClient = window.tus && window.tus.isSupported ? window.tus : null;
  if (!form || !tusClient) { return; }
  var input = document.getElementById("files");
  var list = form.querySelector(".progress-list");
  var field = function (id) { var el = document.getElementById(id); return el ? el.value.trim() : ""; };
  var serverMessage = function (status, body) {
    var msg = "The upload failed (" + status + ").";
    try { msg = JSON.parse(body).msg || msg; } catch (e) { /* not JSON */ }
    return msg;
  };
  var send = function (files) {
    var pending = files.length;
    var failed = 0;
    var finish = function (ok) {
      if (!ok) { failed += 1; }
      pending -= 1;
      if (pending === 0 && failed < files.length) {
        var url = window.location.pathname + "?done=sent";
        setTimeout(function () { window.location.assign(url); }, failed ? 2500 : 300);
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
      var cancel = document.createElement("button");
      cancel.type = "button";
      cancel.className = "button small danger cancel";
      cancel.textContent = "Cancel";
      li.appendChild(name);
      li.appendChild(bar);
      li.appendChild(pct);
      li.appendChild(cancel);
      list.appendChild(li);
      var ended = false;
      var done = function (ok, msg) {
        if (ended) { return; }
        ended = true;
        cancel.hidden = true;
        li.className = ok ? "done" : "failed";
        if (ok) { bar.value = 100; pct.textContent = "100%"; } else { pct.textContent = msg; pct.setAttribute("role", "alert"); }
        finish(ok);
      };
      var meta = { filename: file.name };
      if (file.type) { meta.filetype = file.type; }
      ["name", "email", "note"].forEach(function (k) {
        var v = field("uploader-" + k);
        if (v) { meta[k] = v; }
      });
      var up = new tusClient.Upload(file, {
        endpoint: form.dataset.tus,
        chunkSize: 5 * 1024 * 1024,
        retryDelays: [0, 1000, 3000, 5000, 10000, 20000],
        metadata: meta,
        removeFingerprintOnSuccess: true,
        onProgress: function (sent, total) {
          var p = total ? Math.floor((sent / total) * 100) : 100;
          bar.value = p;
          pct.textContent = p + "%";
        },
        onSuccess: function () { done(true, ""); },
        onError: function (err) {
          var res = err && err.originalResponse;
          done(false, res ? serverMessage(res.getStatus(), res.getBody())
            : "The upload was cut off: check the connection, then pick the file again to resume.");
        }
      });
      cancel.addEventListener("click", function () {
        up.abort(true).then(function () {}, function () {});
        done(false, "Cancelled: nothing of it was kept.");
      });
      up.findPreviousUploads().then(function (previous) {
        if (previous.length) { up.resumeFromPreviousUpload(previous[0]); }
        up.start();
      }, function () { up.start(); });
    });
  };
  form.addEventListener("submit", function (e) {
    if (!input.files.length) { return; }
    e.preventDefault();
    send(input.files);
  });
  ["dragenter", "dragover"].forEach(function (t) {
    form.addEventListener(t, function (e) { e.preventDefault(); form.classList.add("over"); });
  });
  ["dragleave", "drop"].forEach(function (t) {
    form.addEventListener(t, function (e) { e.preventDefault(); form.classList.remove("over"); });
  });
  form.addEventListener("drop", function (e) {
    if (e.dataTransfer && e.dataTransfer.files.length) { send(e.dataTransfer.files); }
  });
})();
