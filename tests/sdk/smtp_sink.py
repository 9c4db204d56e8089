"""A real SMTP server (aiosmtpd) for the mail tests, on 127.0.0.1.

usage: smtp_sink.py PORT MAILDIR [MODE]
MODE: ok (default) | 451 (every RCPT gets "451 try later") | 550 (every RCPT gets "550 no such user")
      | 451-then-ok:N (the first N RCPTs get 451, then ok).
Each accepted message is written to MAILDIR as <n>.eml (the raw bytes as received).
Prints "ready" once listening; runs until killed.
"""
import asyncio
import itertools
import os
import sys

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, maildir, mode):
        self.maildir = maildir
        self.mode = mode
        self.rcpts = 0
        self.n = itertools.count(1)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self.rcpts += 1
        if self.mode == "451":
            return "451 4.3.0 try again later"
        if self.mode == "550":
            return "550 5.1.1 no such user"
        if self.mode.startswith("451-then-ok:") and self.rcpts <= int(self.mode.split(":")[1]):
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        path = os.path.join(self.maildir, f"{next(self.n)}.eml")
        tmp = path + ".part"
        with open(tmp, "wb") as fh:
            fh.write(envelope.original_content or envelope.content)
        os.replace(tmp, path)
        return "250 Message accepted"


def main():
    port, maildir = int(sys.argv[1]), sys.argv[2]
    mode = sys.argv[3] if len(sys.argv) > 3 else "ok"
    os.makedirs(maildir, exist_ok=True)
    controller = Controller(Sink(maildir, mode), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    try:
        asyncio.get_event_loop().run_forever()
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
