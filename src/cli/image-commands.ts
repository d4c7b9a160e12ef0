import { writeFile } from "node:fs/promises";
import type { Command } from "commander";
import { buildEmptyImage, EMPTY_IMAGE_REF } from "../image/empty-image.js";

/** `imageless image …`: the empty image a Flox pod can name as its image. */
export function registerImageCommands(program: Command): void {
  const image = program.command("image").description("the empty image for Flox pods");
  image
    .command("empty")
    .description(`write the empty image (${EMPTY_IMAGE_REF}) as an OCI layout tarball`)
    .requiredOption(
      "-o, --output <file>",
      "where to write the tarball (import: ctr -n k8s.io images import FILE)",
    )
    .action(async (opts: { output: string }) => {
      await writeFile(opts.output, buildEmptyImage());
      process.stdout.write(`${EMPTY_IMAGE_REF} written to ${opts.output}\n`);
    });
}
