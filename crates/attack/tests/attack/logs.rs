//! stub

use mayfly_attack::world::World;

pub(crate) fn run(_w: &mut World) {}
