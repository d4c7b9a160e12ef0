/** The version of this build, reported by the CLI and in telemetry events. */
export const VERSION = "0.1.0";
