//! The trainer worker bundle, built by Trunk as a Web Worker. The course UI loads it only when a demo appears.

fn main() {
    tinytune::worker::start();
}
