/**
 * The Nix system string of this node (e.g. `x86_64-linux`), which selects lock entries. Nix names
 * architectures differently from Node.
 */
export function nixSystem(arch: string = process.arch, platform: string = process.platform): string {
  const cpu =
    ({ x64: "x86_64", arm64: "aarch64", ia32: "i686", riscv64: "riscv64" } as Record<string, string>)[arch] ??
    arch;
  const os = platform === "darwin" ? "darwin" : platform;
  return `${cpu}-${os}`;
}
