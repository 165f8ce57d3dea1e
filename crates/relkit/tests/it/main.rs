//! The relkit CLI's integration tests, run against the built binary: one test binary for
//! the whole crate (link time dominates CI), one module per command or journey.

mod attest_cli;
mod cargo_audit;
mod catalog_oracles;
mod cli_audit;
mod cli_build;
mod cli_cpe;
mod cli_demo;
mod cli_diff;
mod cli_health;
mod cli_release;
mod cli_sbom;
mod cli_sbom_embeddable;
mod cli_sbom_generate_truth;
mod cli_sbom_identity;
mod cli_sbom_inputs;
mod cli_sbom_install_prefix;
mod cli_sbom_macho_pe;
mod cli_sbom_pep770;
mod cli_sbom_pep770_write;
mod cli_sbom_site_packages;
mod cli_sbom_verify;
mod cli_sbom_verify_wheel;
mod cli_sbom_version_unknown;
mod cli_scan;
mod cli_serve;
mod cli_serve_replicas;
mod cli_serve_s3;
mod cli_serve_watch;
mod cli_serve_webhooks;
mod db_update;
mod go_binary_scan;
mod lockfile_scans;
mod self_scan;
mod trust_paths;
