//! stub

use mayfly_attack::world::World;

use crate::Fx;

pub(crate) fn run(_w: &mut World, _fx: &Fx) {}
