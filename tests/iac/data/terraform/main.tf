# The shop's roles, managed by Terraform.
terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.0"
    }
  }
}

locals {
  tags = { team = "shop", env = var.env } # applied to everything
}

resource "aws_iam_role" "orders_api" {
  name = "orders-api"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "lambda.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
  tags = local.tags
}

# Everything the API might ever need, for now.
resource "aws_iam_role_policy" "orders_api_access" {
  name = "orders-api-access"
  role = aws_iam_role.orders_api.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect   = "Allow"
        Action   = ["dynamodb:*", "s3:*", "logs:*"]
        Resource = "*" # "${var.table_arn}" once the table is ours
      },
    ]
  })
}

resource "aws_iam_role_policy" "orders_api_legacy" {
  name   = "orders-api-legacy"
  role   = aws_iam_role.orders_api.id
  policy = <<-EOT
    {
      "Version": "2012-10-17",
      "Statement": [
        {"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}
      ]
    }
  EOT
}

resource "aws_iam_role_policy_attachment" "orders_api_admin" {
  role       = aws_iam_role.orders_api.name
  policy_arn = "arn:aws:iam::aws:policy/AdministratorAccess"
}

resource "aws_iam_role" "report_builder" {
  name = "report-builder"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Principal = { Service = "ecs-tasks.amazonaws.com" }, Action = "sts:AssumeRole" }]
  })
  managed_policy_arns = [
    "arn:aws:iam::aws:policy/AmazonS3FullAccess",
    aws_iam_policy.glue_read.arn,
  ]
}

resource "aws_iam_role_policy" "reports" {
  name   = "report-builder-access"
  role   = aws_iam_role.report_builder.id
  policy = file("${path.module}/policies/reports.json")
}

resource "aws_iam_policy" "glue_read" {
  name   = "glue-read"
  policy = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "glue:Get*", Resource = "*" }] })
}

resource "aws_iam_role" "ci_deployer" {
  name = "ci-deployer"
  assume_role_policy = data.aws_iam_policy_document.ci_trust.json

  inline_policy {
    name   = "deploy"
    policy = data.aws_iam_policy_document.deploy.json
  }
}
