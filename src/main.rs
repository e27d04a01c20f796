//! `gpx_lakewatch`: the Grafana backend plugin executable.

#[tokio::main]
async fn main() {
    if let Err(e) = lakewatch::service::serve().await {
        eprintln!("gpx_lakewatch: {e}");
        std::process::exit(1);
    }
}
