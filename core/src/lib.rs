pub mod jsv;
