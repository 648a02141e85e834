DROP TABLE duplicate_models;
