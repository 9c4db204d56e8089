// Sharebox owner UI: upload progress and drag-and-drop, copy buttons, the browser's time zone.
// Every form works without this file; it only makes them nicer.
(function () {
  "use strict";

  // Uploads: one XHR per file so each gets its own progress bar.
  var form = document.getElementById("upload");
  if (form && window.XMLHttpRequest && window.FormData) {
    var input = document.getElementById("files");
    var list = document.getElementById("progress");
    var upload = function (files) {
      var pending = files.length;
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
        li.appendChild(name);
        li.appendChild(bar);
        li.appendChild(pct);
        list.appendChild(li);
        var xhr = new XMLHttpRequest();
        xhr.open("POST", "/app/upload?folder_uuid=" + encodeURIComponent(form.dataset.folder));
        xhr.setRequestHeader("X-CSRF-Token", form.dataset.csrf);
        xhr.upload.onprogress = function (e) {
          if (e.lengthComputable) {
            var p = Math.round((e.loaded / e.total) * 100);
            bar.value = p;
            pct.textContent = p + "%";
          }
        };
        xhr.onload = function () {
          if (xhr.status === 200) {
            bar.value = 100;
            pct.textContent = "100%";
            li.className = "done";
          } else {
            li.className = "failed";
            var msg = "failed";
            try { msg = JSON.parse(xhr.responseText).msg || msg; } catch (e) { /* not JSON */ }
            pct.textContent = msg;
          }
          pending -= 1;
          if (pending === 0) { setTimeout(function () { window.location.reload(); }, 400); }
        };
        xhr.onerror = function () { li.className = "failed"; pct.textContent = "network error"; };
        var data = new FormData();
        data.append("file", file, file.name);
        xhr.send(data);
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

  // A zone not chosen yet defaults to the browser's.
  var zone = "";
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { zone = ""; }
  Array.prototype.forEach.call(document.querySelectorAll("select.zone"), function (s) {
    if (!s.dataset.value && zone) {
      for (var i = 0; i < s.options.length; i++) {
        if (s.options[i].value === zone) { s.selectedIndex = i; break; }
      }
    }
  });
})();
