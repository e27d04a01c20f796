//! `gpx_lakewatch`: the Grafana backend plugin executable.

/// Every panel builds and drops a schema tree per Parquet file it opens; mimalloc keeps that
/// cheap where glibc's allocator spent a large share of a dashboard's time in its bookkeeping.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() {
    if let Err(e) = lakewatch::service::serve().await {
        eprintln!("gpx_lakewatch: {e}");
        std::process::exit(1);
    }
}
