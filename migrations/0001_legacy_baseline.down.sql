DROP TABLE customers;
DROP TABLE "VC Usage";
DROP TABLE app_users;
DROP TABLE companies;
