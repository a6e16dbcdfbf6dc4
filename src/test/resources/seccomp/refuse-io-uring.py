#!/usr/bin/env python3
"""Runs a command with the io_uring system calls refused (EPERM), as Docker's default seccomp
profile refuses them: `refuse-io-uring.py COMMAND ARGS...`. Exits 3, before running anything, when
this host cannot install the filter (not x86-64 Linux, or seccomp off)."""
import ctypes
import os
import platform
import struct
import sys

PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
SECCOMP_RET_ALLOW = 0x7FFF0000
SECCOMP_RET_ERRNO = 0x00050000
EPERM = 1
AUDIT_ARCH_X86_64 = 0xC000003E
IO_URING_SETUP, IO_URING_REGISTER = 425, 427  # io_uring_setup, io_uring_enter, io_uring_register

# Classic BPF over struct seccomp_data {int nr; u32 arch; ...}.
LD_W_ABS, JEQ_K, JGE_K, JGT_K, RET_K = 0x20, 0x15, 0x35, 0x25, 0x06


def insn(code, k, jt=0, jf=0):
    return struct.pack("HBBI", code, jt, jf, k)


def main():
    if len(sys.argv) < 2:
        print("usage: refuse-io-uring.py COMMAND ARGS...", file=sys.stderr)
        return 2
    if platform.system() != "Linux" or platform.machine() != "x86_64":
        print("refuse-io-uring: needs x86-64 Linux", file=sys.stderr)
        return 3
    program = b"".join([
        insn(LD_W_ABS, 4),                            # arch
        insn(JEQ_K, AUDIT_ARCH_X86_64, 1, 0),
        insn(RET_K, SECCOMP_RET_ALLOW),               # another ABI: not ours to judge
        insn(LD_W_ABS, 0),                            # syscall number
        insn(JGE_K, IO_URING_SETUP, 0, 2),
        insn(JGT_K, IO_URING_REGISTER, 1, 0),
        insn(RET_K, SECCOMP_RET_ERRNO | EPERM),
        insn(RET_K, SECCOMP_RET_ALLOW),
    ])
    count = len(program) // 8
    buffer = ctypes.create_string_buffer(program, len(program))

    class SockFprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    fprog = SockFprog(count, ctypes.cast(buffer, ctypes.c_void_p))
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 or \
            libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) != 0:
        print("refuse-io-uring: seccomp: " + os.strerror(ctypes.get_errno()), file=sys.stderr)
        return 3
    os.execvp(sys.argv[1], sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
