# The demo's packages, built offline in a chroot store from what this machine has: the static busybox
# and Debian's Redis programs (imported with their libraries by src/nix/import-host-programs.ts).
# Every derivation uses busybox as builder, so Nix records real references and closures.
{ busyboxPath, redisProgramsPath, redisLibsPath }:
let
  busybox = builtins.storePath busyboxPath;
  redisPrograms = builtins.storePath redisProgramsPath;
  redisLibs = builtins.storePath redisLibsPath;
  bb = "${busybox}/bin/busybox";
  make = name: attrs: script: derivation ({
    inherit name;
    system = "x86_64-linux";
    builder = bb;
    args = [ "sh" "-c" "set -e; ${script}" ];
  } // attrs);

  # The patched programs name redis-libs in their ELF interpreter and RUNPATH; copying them here with
  # redis-libs as an input makes Nix record that reference.
  redis = make "redis-7.0.15" { } ''
    : ${redisLibs}
    ${bb} mkdir -p $out/bin
    ${bb} cp ${redisPrograms}/bin/redis-server ${redisPrograms}/bin/redis-cli $out/bin/
    ${bb} chmod 755 $out/bin/redis-server $out/bin/redis-cli
  '';

  # A shell and a few tools, for `imageless pod exec … -- sh`.
  tools = make "busybox-tools-1.35.0" { } ''
    ${bb} mkdir -p $out/bin
    for tool in sh cat ls env ps sleep echo wget; do ${bb} ln -s ${bb} $out/bin/$tool; done
  '';

  fill = version: file:
    builtins.replaceStrings [ "@busybox@" "@redis@" "@version@" ] [ "${busybox}" "${redis}" version ]
      (builtins.readFile file);

  quotes = version: make "quotes-${version}" {
    server = fill version ./quotes/quotes-server.sh;
    handler = fill version ./quotes/quotes-handler.sh;
    load = fill version ./quotes/quotes-load.sh;
    quotes = builtins.readFile ./quotes/quotes.txt;
  } ''
    ${bb} mkdir -p $out/bin $out/libexec $out/share/quotes
    ${bb} printf '%s' "$server" | ${bb} sed "s|@out@|$out|g" > $out/bin/quotes-server
    ${bb} printf '%s' "$load" | ${bb} sed "s|@out@|$out|g" > $out/bin/quotes-load
    ${bb} printf '%s' "$handler" > $out/libexec/quotes-handler
    ${bb} printf '%s' "$quotes" > $out/share/quotes/quotes.txt
    ${bb} chmod 755 $out/bin/quotes-server $out/bin/quotes-load $out/libexec/quotes-handler
  '';
in
{
  inherit redis tools;
  quotes-1 = quotes "1.0";
  quotes-2 = quotes "2.0";
}
