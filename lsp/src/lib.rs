//! The Ward language server: the compiler's own front end behind the
//! Language Server Protocol.
//!
//! Every answer comes from a compilation of the document's program by
//! `ward_compiler::compile` and its semantic index; this crate only keeps
//! documents, converts positions (UTF-16 columns) and speaks JSON-RPC.

mod features;
mod position;
mod server;
mod workspace;

pub use position::LineIndex;
pub use server::{Server, run};
pub use workspace::{Analysis, materialise_stdlib, path_to_uri, uri_to_path};

/// An error that ends the server: a broken connection.
pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// Serves LSP over standard input and output until the client exits.
pub fn run_stdio() -> Result<(), Error> {
    let (connection, io_threads) = lsp_server::Connection::stdio();
    run(connection)?;
    io_threads.join()?;
    Ok(())
}
