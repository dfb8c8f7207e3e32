//! The low-rank view of a LoRA update (lesson "LoRA in one matrix"): one projection's frozen weight `W`, its
//! adapter's `A` and `B`, the update `ΔW = scaling · B·A`, and the update's singular values, which say how much of
//! it each rank holds. The worker reads a projection's weights off the model it holds ([`ProjectionWeights`]);
//! the page does the small sums here, in f64, for matrices of at most a few hundred rows.

use serde::{Deserialize, Serialize};

use crate::settings::Projection;

/// A dense matrix, row-major.
#[derive(Clone, Debug, PartialEq)]
pub struct Matrix {
    pub rows: usize,
    pub cols: usize,
    pub data: Vec<f64>,
}

impl Matrix {
    pub fn new(rows: usize, cols: usize, data: Vec<f64>) -> Matrix {
        assert_eq!(data.len(), rows * cols, "a {rows}×{cols} matrix");
        Matrix { rows, cols, data }
    }

    pub fn from_f32(rows: usize, cols: usize, data: &[f32]) -> Matrix {
        Matrix::new(rows, cols, data.iter().map(|&x| f64::from(x)).collect())
    }

    pub fn at(&self, row: usize, col: usize) -> f64 {
        self.data[row * self.cols + col]
    }

    pub fn matmul(&self, other: &Matrix) -> Matrix {
        assert_eq!(self.cols, other.rows, "inner dimensions");
        let mut out = vec![0.0; self.rows * other.cols];
        for i in 0..self.rows {
            for k in 0..self.cols {
                let a = self.at(i, k);
                for j in 0..other.cols {
                    out[i * other.cols + j] += a * other.at(k, j);
                }
            }
        }
        Matrix::new(self.rows, other.cols, out)
    }

    pub fn transpose(&self) -> Matrix {
        let data = (0..self.cols).flat_map(|c| (0..self.rows).map(move |r| (r, c))).map(|(r, c)| self.at(r, c));
        Matrix::new(self.cols, self.rows, data.collect())
    }

    pub fn scaled(&self, factor: f64) -> Matrix {
        Matrix::new(self.rows, self.cols, self.data.iter().map(|x| x * factor).collect())
    }

    pub fn plus(&self, other: &Matrix) -> Matrix {
        assert_eq!((self.rows, self.cols), (other.rows, other.cols), "same shape");
        Matrix::new(self.rows, self.cols, self.data.iter().zip(&other.data).map(|(a, b)| a + b).collect())
    }

    /// The square root of the sum of squares: the matrix's size as one number.
    pub fn frobenius(&self) -> f64 {
        self.data.iter().map(|x| x * x).sum::<f64>().sqrt()
    }

    pub fn max_abs(&self) -> f64 {
        self.data.iter().fold(0.0, |max, x| max.max(x.abs()))
    }
}

/// `M = U · diag(σ) · Vᵀ`, with `σ` in descending order.
#[derive(Clone, Debug, PartialEq)]
pub struct Svd {
    /// `rows × n`, orthonormal columns (n = min(rows, cols)).
    pub u: Matrix,
    pub singular_values: Vec<f64>,
    /// `cols × n`, orthonormal columns.
    pub v: Matrix,
}

/// The singular value decomposition of `m`, by one-sided Jacobi rotations (Hestenes): accurate for the small
/// matrices of this lesson, and a few dozen lines where a linear-algebra crate would add its whole weight to the
/// page's bundle for one 64 × 64 matrix.
pub fn svd(m: &Matrix) -> Svd {
    if m.cols > m.rows {
        let Svd { u, singular_values, v } = svd(&m.transpose());
        return Svd { u: v, singular_values, v: u };
    }
    let (rows, n) = (m.rows, m.cols);
    // Columns of the working copy, rotated until every pair is orthogonal; V collects the same rotations.
    let mut a: Vec<Vec<f64>> = (0..n).map(|c| (0..rows).map(|r| m.at(r, c)).collect()).collect();
    let mut v: Vec<Vec<f64>> = (0..n).map(|c| (0..n).map(|r| f64::from(u8::from(r == c))).collect()).collect();
    let dot = |x: &[f64], y: &[f64]| x.iter().zip(y).map(|(a, b)| a * b).sum::<f64>();
    let rotate = |columns: &mut Vec<Vec<f64>>, p: usize, q: usize, c: f64, s: f64| {
        for i in 0..columns[p].len() {
            let (x, y) = (columns[p][i], columns[q][i]);
            columns[p][i] = c * x - s * y;
            columns[q][i] = s * x + c * y;
        }
    };
    for _sweep in 0..60 {
        let mut rotated = false;
        for p in 0..n {
            for q in p + 1..n {
                let (alpha, beta, gamma) = (dot(&a[p], &a[p]), dot(&a[q], &a[q]), dot(&a[p], &a[q]));
                if gamma.abs() <= 1e-15 * (alpha * beta).sqrt() || gamma == 0.0 {
                    continue;
                }
                rotated = true;
                let zeta = (beta - alpha) / (2.0 * gamma);
                let t = zeta.signum() / (zeta.abs() + (1.0 + zeta * zeta).sqrt());
                let c = 1.0 / (1.0 + t * t).sqrt();
                rotate(&mut a, p, q, c, c * t);
                rotate(&mut v, p, q, c, c * t);
            }
        }
        if !rotated {
            break;
        }
    }
    let mut order: Vec<(f64, usize)> =
        a.iter().enumerate().map(|(j, column)| (dot(column, column).sqrt(), j)).collect();
    order.sort_by(|x, y| y.0.total_cmp(&x.0));
    let singular_values = order.iter().map(|&(s, _)| s).collect();
    let mut u = vec![0.0; rows * n];
    let mut vt = vec![0.0; n * n];
    for (k, &(s, j)) in order.iter().enumerate() {
        for i in 0..rows {
            // A column that rotated to zero has no direction; leave its U column at zero (its σ is 0).
            u[i * n + k] = if s > 0.0 { a[j][i] / s } else { 0.0 };
        }
        for i in 0..n {
            vt[i * n + k] = v[j][i];
        }
    }
    Svd { u: Matrix::new(rows, n, u), singular_values, v: Matrix::new(n, n, vt) }
}

impl Svd {
    /// The best approximation of rank `k` (Eckart–Young): the first `k` singular values and their vectors.
    pub fn rank_k(&self, k: usize) -> Matrix {
        let (rows, cols) = (self.u.rows, self.v.rows);
        let mut out = vec![0.0; rows * cols];
        for (t, &s) in self.singular_values.iter().enumerate().take(k) {
            for i in 0..rows {
                let us = self.u.at(i, t) * s;
                for j in 0..cols {
                    out[i * cols + j] += us * self.v.at(j, t);
                }
            }
        }
        Matrix::new(rows, cols, out)
    }

    /// The share of the matrix's squared size (Frobenius) its first `k` singular values hold.
    pub fn energy(&self, k: usize) -> f64 {
        let total: f64 = self.singular_values.iter().map(|s| s * s).sum();
        let first: f64 = self.singular_values.iter().take(k).map(|s| s * s).sum();
        if total > 0.0 {
            first / total
        } else {
            0.0
        }
    }
}

/// One projection of one layer as the model holds it: the frozen weight in Hugging Face's `[out, in]` layout and,
/// if it has one, its adapter.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProjectionWeights {
    pub layer: usize,
    pub projection: Projection,
    /// `out` rows.
    pub rows: usize,
    /// `in` columns.
    pub cols: usize,
    pub weight: Vec<f32>,
    pub adapter: Option<AdapterWeights>,
}

/// `A` (`[r, in]`), `B` (`[out, r]`) and the scaling (alpha / r) of one adapted projection.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AdapterWeights {
    pub rank: usize,
    pub scaling: f64,
    pub a: Vec<f32>,
    pub b: Vec<f32>,
}

impl ProjectionWeights {
    pub fn w(&self) -> Matrix {
        Matrix::from_f32(self.rows, self.cols, &self.weight)
    }

    /// `B·A` without the scaling, if the projection is adapted.
    pub fn b_times_a(&self) -> Option<Matrix> {
        let adapter = self.adapter.as_ref()?;
        let a = Matrix::from_f32(adapter.rank, self.cols, &adapter.a);
        let b = Matrix::from_f32(self.rows, adapter.rank, &adapter.b);
        Some(b.matmul(&a))
    }
}

#[cfg(feature = "trainer")]
mod reading {
    use super::{AdapterWeights, ProjectionWeights};
    use crate::model::LlamaForCausalLM;
    use crate::settings::{Choice, Projection};
    use burn::prelude::*;

    async fn floats(tensor: Tensor<2>) -> Vec<f32> {
        let data = tensor.into_data_async().await.expect("reading weights from the device");
        data.try_to_vec::<f32>().expect("f32 weights")
    }

    /// The weights of `projection` in `layer` of `model`, or `None` if the model has no such layer.
    pub async fn read_projection(
        model: &LlamaForCausalLM,
        layer: usize,
        projection: Projection,
    ) -> Option<ProjectionWeights> {
        let name = format!("model.layers.{layer}.");
        let (_, linear) = model
            .projections()
            .into_iter()
            .find(|(n, _)| n.strip_prefix(&name).is_some_and(|rest| rest.ends_with(projection.name())))?;
        // Burn's `Linear` keeps `[in, out]`; Hugging Face and PEFT write `[out, in]`.
        let weight = linear.base_layer.weight().transpose();
        let [rows, cols] = weight.dims();
        let adapter = match &linear.lora {
            Some(lora) => Some(AdapterWeights {
                rank: lora.lora_a.val().dims()[0],
                scaling: lora.scaling,
                a: floats(lora.lora_a.val()).await,
                b: floats(lora.lora_b.val()).await,
            }),
            None => None,
        };
        Some(ProjectionWeights { layer, projection, rows, cols, weight: floats(weight).await, adapter })
    }
}

#[cfg(feature = "trainer")]
pub use reading::read_projection;

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: &Matrix, b: &Matrix, tolerance: f64) -> bool {
        a.data.iter().zip(&b.data).all(|(x, y)| (x - y).abs() <= tolerance)
    }

    /// A pseudo-random matrix (a fixed linear congruential sequence), so the test needs no generator crate.
    fn noise(rows: usize, cols: usize, seed: u64) -> Matrix {
        let mut state = seed;
        let data = (0..rows * cols)
            .map(|_| {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5
            })
            .collect();
        Matrix::new(rows, cols, data)
    }

    /// What makes a factorization an SVD: it rebuilds the matrix, U's and V's columns are orthonormal (where σ > 0),
    /// and σ is non-negative and descending. The singular values of a matrix are unique, so any routine that
    /// passes this gives the same ones.
    fn assert_is_svd(m: &Matrix, svd: &Svd) {
        let n = svd.singular_values.len();
        assert_eq!(n, m.rows.min(m.cols));
        assert!(close(&svd.rank_k(n), m, 1e-10), "U·diag(σ)·Vᵀ rebuilds the matrix");
        assert!(svd.singular_values.windows(2).all(|w| w[0] >= w[1]) && svd.singular_values[n - 1] >= 0.0);
        let vtv = svd.v.transpose().matmul(&svd.v);
        let utu = svd.u.transpose().matmul(&svd.u);
        for i in 0..n {
            for j in 0..n {
                let identity = f64::from(u8::from(i == j));
                assert!((vtv.at(i, j) - identity).abs() < 1e-10, "VᵀV = I");
                if svd.singular_values[i] > 1e-9 && svd.singular_values[j] > 1e-9 {
                    assert!((utu.at(i, j) - identity).abs() < 1e-9, "UᵀU = I where σ > 0");
                }
            }
        }
    }

    #[test]
    fn a_matrix_built_from_known_singular_values_gives_them_back() {
        // U and V from the orthonormal columns of a rotation-like Householder reflector: I - 2vvᵀ/(vᵀv).
        let reflector = |size: usize, seed: u64| {
            let v = noise(size, 1, seed);
            let vv = v.transpose().matmul(&v).at(0, 0);
            let mut h = v.matmul(&v.transpose()).scaled(-2.0 / vv);
            for i in 0..size {
                h.data[i * size + i] += 1.0;
            }
            h
        };
        let (u, v) = (reflector(6, 1), reflector(4, 2));
        let sigma = Matrix::new(6, 4, {
            let mut d = vec![0.0; 24];
            for (i, s) in [3.0, 2.0, 0.5, 0.0].into_iter().enumerate() {
                d[i * 4 + i] = s;
            }
            d
        });
        let m = u.matmul(&sigma).matmul(&v.transpose());
        let svd = svd(&m);
        assert_is_svd(&m, &svd);
        for (found, expected) in svd.singular_values.iter().zip([3.0, 2.0, 0.5, 0.0]) {
            assert!((found - expected).abs() < 1e-12, "{found} against {expected}");
        }
        assert!((svd.energy(2) - 13.0 / 13.25).abs() < 1e-12, "(9 + 4) / (9 + 4 + 0.25)");
    }

    #[test]
    fn a_lora_update_has_at_most_rank_r_and_wide_matrices_work_too() {
        // B·A with r = 3, in the shapes of stories260K's up_proj (172 × 64) and down_proj (64 × 172).
        let (b, a) = (noise(172, 3, 3), noise(3, 64, 4));
        for m in [b.matmul(&a), b.matmul(&a).transpose()] {
            let svd = svd(&m);
            assert_is_svd(&m, &svd);
            assert!(
                svd.singular_values[2] > 1e-3 && svd.singular_values[3] < 1e-12,
                "rank 3: {:?}",
                &svd.singular_values[..5]
            );
            assert!((svd.energy(3) - 1.0).abs() < 1e-12);
            assert!(close(&svd.rank_k(3), &m, 1e-10), "rank 3 holds all of it");
        }
        let full = noise(64, 64, 5);
        assert_is_svd(&full, &svd(&full));
    }

    #[test]
    fn the_best_rank_k_approximation_leaves_the_rest_of_the_energy_out() {
        let m = noise(20, 12, 6);
        let svd = svd(&m);
        let k = 4;
        let rest = m.plus(&svd.rank_k(k).scaled(-1.0));
        let dropped: f64 = svd.singular_values[k..].iter().map(|s| s * s).sum();
        // ‖M − M_k‖² is the sum of the dropped σ², so the energy kept is 1 − that share.
        assert!((rest.frobenius().powi(2) - dropped).abs() < 1e-10);
        assert!((svd.energy(k) - (1.0 - dropped / m.frobenius().powi(2))).abs() < 1e-12);
    }

    #[test]
    fn an_adapter_gives_b_times_a() {
        let weights = ProjectionWeights {
            layer: 0,
            projection: Projection::QProj,
            rows: 2,
            cols: 3,
            weight: vec![0.0; 6],
            adapter: Some(AdapterWeights { rank: 1, scaling: 2.0, a: vec![1.0, 2.0, 3.0], b: vec![1.0, -1.0] }),
        };
        assert_eq!(weights.b_times_a().unwrap().data, [1.0, 2.0, 3.0, -1.0, -2.0, -3.0]);
        assert_eq!(ProjectionWeights { adapter: None, ..weights }.b_times_a(), None);
    }
}
