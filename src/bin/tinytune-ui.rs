//! The course UI bundle, built by Trunk. The trainer lives in a separate worker bundle.

fn main() {
    tinytune::ui::mount();
}
