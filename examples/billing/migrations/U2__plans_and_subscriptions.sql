DROP TABLE subscriptions;
DROP TABLE plans;
