//! Low-dimensional embeddings for figures: [`tsne`] projects raw series and learned features to
//! 2-D for the report's "do the classes separate?" scatter plots (the CNN-TS paper's t-SNE figures).

pub mod tsne;

pub use tsne::{TsneConfig, TsneError, neighbour_purity, tsne};
