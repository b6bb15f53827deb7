//! `idem`: command-line producer, in-memory broker and demo. (Under construction.)
#![forbid(unsafe_code)]

fn main() {
    eprintln!("idem: the demo is not built yet; see README.md");
    std::process::exit(2);
}
