//! A hexagonal grid standing in for H3 cells, shared by the peer checks and
//! the benchmark (`#[path]`-included there): `width × height` cells in
//! offset rows (odd rows shifted half a cell right), each with six
//! neighbours inside the grid, and k-rings as H3's `grid_disk` gives them
//! away from the pentagons: every cell within `k` steps, the cell included.

/// The cells adjacent to `cell` (not itself).
fn adjacent(width: usize, height: usize, cell: usize) -> impl Iterator<Item = usize> {
    let (r, c) = ((cell / width) as i64, (cell % width) as i64);
    let shift = r & 1;
    [
        (0, -1),
        (0, 1),
        (-1, shift - 1),
        (-1, shift),
        (1, shift - 1),
        (1, shift),
    ]
    .into_iter()
    .map(move |(dr, dc)| (r + dr, c + dc))
    .filter(move |&(r, c)| (0..height as i64).contains(&r) && (0..width as i64).contains(&c))
    .map(move |(r, c)| r as usize * width + c as usize)
}

/// Every cell's k-ring, itself first, then by distance.
pub fn hex_rings(width: usize, height: usize, k: usize) -> Vec<Vec<usize>> {
    (0..width * height)
        .map(|cell| {
            let mut ring = vec![cell];
            let mut frontier = vec![cell];
            for _ in 0..k {
                let mut next = Vec::new();
                for &f in &frontier {
                    for a in adjacent(width, height, f) {
                        if !ring.contains(&a) {
                            ring.push(a);
                            next.push(a);
                        }
                    }
                }
                frontier = next;
            }
            ring
        })
        .collect()
}
